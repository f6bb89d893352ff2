"""Import every model so that metadata (Alembic, tests) sees all tables."""

from portal.applications.models import Application, Document, Interest, StatusChange
from portal.associations.models import Association
from portal.audit import AuditEvent
from portal.auth.models import ApplicantProfile, User
from portal.catalog.models import City, Offering, Region, Track
from portal.certificates.models import Certificate
from portal.demand.models import InterestCount, ResidentCount
from portal.notifications.models import OutboxEmail
from portal.review.models import Review

__all__ = [
    "ApplicantProfile",
    "Application",
    "Association",
    "AuditEvent",
    "Certificate",
    "City",
    "Document",
    "Interest",
    "InterestCount",
    "Offering",
    "OutboxEmail",
    "Region",
    "ResidentCount",
    "Review",
    "StatusChange",
    "Track",
    "User",
]
