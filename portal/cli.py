"""``flask --app portal`` commands: seed, users, reviewers, the worker, outbox, workflow, counts, TOTP keys."""

import logging
import time

import click
from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.vocabulary import AssociationField, EducationLevel, Role

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed demo account, seeded only with --demo
DEMO_ACCOUNTS = (
    ("admin@demo.ma", Role.ADMIN),
    ("reviewer@demo.ma", Role.REVIEWER),
    ("applicant@demo.ma", Role.APPLICANT),
)


def init_app(app):
    """Register the command groups."""
    app.cli.add_command(seed)
    app.cli.add_command(create_user)
    app.cli.add_command(assign_reviewer)
    app.cli.add_command(worker)
    app.cli.add_command(outbox)
    app.cli.add_command(workflow)
    app.cli.add_command(counts)
    app.cli.add_command(totp)
    from portal.privacy.cli import privacy

    app.cli.add_command(privacy)


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also create demo accounts (development only).")
def seed(demo):
    """Create the regions, cities, tracks and offerings of the catalogue (idempotent)."""
    from portal.catalog.operations import seed_catalogue

    created = seed_catalogue()
    if demo:
        created += _seed_demo_accounts()
    db.session.commit()
    click.echo(f"Seed: {created} rows created.")
    if demo:
        click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for email, role in DEMO_ACCOUNTS:
            click.echo(f"  {role:<10} {email}")


def _seed_demo_accounts():
    """Demo admin, reviewer (assigned to the Rabat offerings) and applicant."""
    from datetime import date

    from portal.associations.membership import claim
    from portal.associations.operations import find_or_declare
    from portal.auth.models import ApplicantProfile, User
    from portal.auth.operations import create_confirmed_user
    from portal.catalog.models import City, Offering
    from portal.catalog.operations import assign_reviewer
    from portal.demand import counts as demand_counts
    from portal.timeutil import utcnow

    created = 0
    for email, role in DEMO_ACCOUNTS:
        if db.session.scalar(select(User).where(User.email == email)):
            continue
        # Through the operations the command line and the admin screens use, so the demo
        # accounts obey the password policy and the reviewer's assignment is audited.
        user = create_confirmed_user(email, role, DEMO_PASSWORD)
        user.consent_at = utcnow()
        user.consent_version = current_app.config["PRIVACY_NOTICE_VERSION"]
        if role == Role.APPLICANT:
            rabat = db.session.scalar(select(City).where(City.slug == "rabat"))
            user.profile = ApplicantProfile(
                first_name="Salma",
                last_name="Bennani",
                cin="AB123456",
                birth_date=date(1992, 4, 12),
                phone="+212612345678",
                city=rabat,
                education_level=EducationLevel.LICENCE,
                association_name="Association Amal pour le développement",
                association_registration="RSK-2015-0421",
                association_city=rabat,
                association_field=AssociationField.EDUCATION,
                association_role="Trésorière",
                association_years=5,
            )
            # In the register too, as a registration through the pages would have put it.
            user.profile.association = find_or_declare(
                name_fr=user.profile.association_name,
                registration_number=user.profile.association_registration,
                field=user.profile.association_field,
                city_id=rabat.id if rabat else None,
            )
            # And a claim to belong to it, pending until a referent endorses it.
            claim(user, user.profile.association)
            db.session.flush()
            demand_counts.account_created(user)
        if role == Role.REVIEWER:
            rabat_offerings = db.session.scalars(
                select(Offering).join(Offering.city).where(City.slug == "rabat")
            ).all()
            for offering in rabat_offerings:
                assign_reviewer(None, offering, user)
        created += 1
    db.session.flush()
    return created


def _commit_or_refuse(operation, *args):
    """Run an operation and commit; a refusal (UserError) becomes the command's error message."""
    from portal.usererror import UserError

    try:
        result = operation(*args)
    except UserError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    return result


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(Role.values()), required=True)
@click.option("--password", default=None, help="Prompted for when absent.")
def create_user(email, role, password):
    """Create a staff (or applicant) account with a confirmed email."""
    from portal.auth.operations import create_confirmed_user, find_user_by_email

    if find_user_by_email(email) is not None:
        raise click.ClickException("A user with that email already exists.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = _commit_or_refuse(create_confirmed_user, email, role, password)
    click.echo(f"Created {role} {user.email} (id {user.id}).")


@click.command("assign-reviewer")
@click.option("--email", required=True)
@click.option("--offering", "offering_id", type=int, required=True)
def assign_reviewer(email, offering_id):
    """Assign an active reviewer to an offering (audited, as from the offering page)."""
    from portal.auth.operations import find_user_by_email
    from portal.catalog.models import Offering
    from portal.catalog.operations import assign_reviewer as assign

    offering = db.session.get(Offering, offering_id)
    if offering is None:
        raise click.ClickException(f"No offering {offering_id}.")
    _commit_or_refuse(assign, None, offering, find_user_by_email(email))
    click.echo(f"{email} reviews offering {offering_id} ({offering.track.code}, {offering.city.name_fr}).")


@click.group("outbox")
def outbox():
    """Deliver the emails of the outbox."""


@outbox.command("send")
def outbox_send():
    """Deliver every email that is due, once."""
    sent, failed = _send_outbox()
    click.echo(f"Outbox: {sent} sent, {failed} failed attempts.")


# The old name of ``worker``, kept because DESIGN.md's public contract and existing
# deployments (systemd units) name it.
@outbox.command("worker")
@click.option("--interval", type=float, default=None, help="Seconds between passes.")
@click.option("--iterations", type=int, default=0, help="Stop after N passes (0: never).")
def outbox_worker(interval, iterations):
    """Same as ``flask --app portal worker`` (its former name)."""
    run_worker(interval, iterations)


@click.command("worker")
@click.option("--interval", type=float, default=None, help="Seconds between passes.")
@click.option("--iterations", type=int, default=0, help="Stop after N passes (0: never).")
def worker(interval, iterations):
    """Background work, in a loop: expire unconfirmed seats and send the outbox's due emails."""
    run_worker(interval, iterations)


def _expire_seats():
    """One workflow tick: expire seats not confirmed in time, promote the waitlist; commit."""
    from portal.applications.workflow import expire_unconfirmed

    expired = expire_unconfirmed()
    db.session.commit()
    return expired


def _send_outbox():
    """Send every email that is due, once (commits row by row)."""
    from portal.notifications.delivery import send_due

    return send_due()


def run_worker(interval=None, iterations=0):
    """Every ``interval`` seconds (WORKER_INTERVAL_SECONDS): a workflow tick, then the outbox.

    The tick runs first so the emails of the seats it expires or promotes leave in the same
    pass. Each step runs on its own: a failing one is logged and rolled back, and the other
    still runs; the loop goes on. ``iterations`` > 0 stops after that many passes.
    """
    interval = current_app.config["WORKER_INTERVAL_SECONDS"] if interval is None else interval
    click.echo(f"Worker started: expiring unconfirmed seats and sending emails every {interval}s.")
    done = 0
    while True:
        for name, step in (("workflow tick", _expire_seats), ("outbox send", _send_outbox)):
            try:
                step()
            except Exception:  # noqa: BLE001 - a worker must survive a bad pass and try again
                db.session.rollback()
                log.exception("worker: %s failed", name)
            finally:
                db.session.remove()
        done += 1
        if iterations and done >= iterations:
            return
        time.sleep(interval)


@click.group("workflow")
def workflow():
    """Time-driven steps of the application workflow."""


@workflow.command("tick")
def workflow_tick():
    """Expire unconfirmed seats and promote wait-listed candidates, once."""
    expired = _expire_seats()
    click.echo(f"Workflow: {len(expired)} seats expired.")


@click.group("counts")
def counts():
    """The counts the dashboard reads: applications per offering and status, and the demand."""


@counts.command("check")
@click.option("--fix", is_flag=True, help="Rewrite the counts from their sources when they differ.")
def counts_check(fix):
    """Recount applications, interests and residents and report any difference (exit 1).

    With --fix the kept counts are rewritten from their sources (safe while the portal runs).
    """
    from portal.applications import counts as application_counts
    from portal.demand import counts as demand_counts

    found = application_counts.fix() if fix else application_counts.differences()
    for d in found:
        click.echo(f"offering {d.offering_id} {d.status}: kept {d.stored}, applications {d.actual}")
    demand = demand_counts.fix() if fix else demand_counts.differences()
    for d in demand:
        if d.kind == "interests":
            click.echo(
                f"interests of track {d.track_id} in city {d.city_id}: kept {d.stored}, interests {d.actual}"
            )
        else:
            click.echo(f"residents of city {d.city_id}: kept {d.stored}, accounts {d.actual}")
    total = len(found) + len(demand)
    if not total:
        click.echo("Counts: they match the applications, interests and accounts.")
        return
    if fix:
        db.session.commit()
        click.echo(f"Counts: {total} differences fixed.")
        return
    raise click.ClickException(f"{total} differences (run `flask counts check --fix`).")


@click.group("totp")
def totp():
    """Staff second factor: the keys that encrypt the TOTP secrets."""


@totp.command("reencrypt")
def totp_reencrypt():
    """Encrypt every TOTP secret with the first of TOTP_ENCRYPTION_KEYS (after a key rotation)."""
    from portal.auth.totp_secrets import UnreadableSecret, reencrypt_all

    try:
        reencrypted, current = reencrypt_all()
    except UnreadableSecret as error:
        db.session.rollback()
        raise click.ClickException(f"{error}: nothing changed; put the old key back in the list.") from None
    db.session.commit()
    click.echo(f"TOTP secrets: {reencrypted} re-encrypted with the first key, {current} already were.")
