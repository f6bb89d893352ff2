"""``flask --app portal privacy purge``: the retention period of law 09-08."""

import click
from flask import current_app

from portal.extensions import db


@click.group("privacy")
def privacy():
    """Personal data: retention."""


@privacy.command("purge")
def purge():
    """Anonymise applications of offerings closed more than RETENTION_MONTHS ago (idempotent)."""
    from portal.privacy.operations import purge_expired

    result = purge_expired()
    db.session.commit()
    months = current_app.config["RETENTION_MONTHS"]
    click.echo(
        f"Privacy purge (offerings closed before {result.cutoff:%Y-%m-%d}, {months} months): "
        f"{result.applications} applications and {result.accounts} accounts anonymised."
    )
