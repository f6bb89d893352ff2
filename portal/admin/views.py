"""Every administration screen: importing this module puts their routes on ``bp``."""

from portal.admin import (  # noqa: F401 - each module adds its routes to the blueprint
    associations,
    audit_log,
    bp,
    certificates,
    cities,
    dashboard,
    downloads,
    invitation,
    offerings,
    outbox,
    reach,
    tracks,
    users,
)
