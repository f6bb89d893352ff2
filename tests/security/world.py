"""A small populated portal shared by the access-control, access-matrix and CSRF tests.

Six visitors: anonymous, the applicant who owns the application (``owner``), another
applicant, a reviewer of the owner's offering, a reviewer of another offering, and an
administrator. Objects that an action would change for good (the offering closed by
``close``, the user deactivated by ``deactivate``...) are spares, so the order in
which routes are tried does not change what the others answer.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app

from portal.applications.models import Document, Interest
from portal.associations.membership import claim
from portal.associations.operations import find_or_declare
from portal.certificates.operations import issue
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.timeutil import utcnow
from portal.vocabulary import AssociationField, CertificateLanguage
from tests import factories
from tests.samples import PDF

ROLES = ("anonymous", "owner", "other_applicant", "reviewer", "other_reviewer", "admin")
_TOKEN_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]+)"')


@dataclass
class World:
    """Every object the tests fill URL parameters with."""

    association: object
    membership: object
    offering: object
    other_offering: object
    spare_offering: object
    owner: object
    other_applicant: object
    reviewer: object
    other_reviewer: object
    admin: object
    target_user: object
    application: object
    other_application: object
    withdraw_application: object
    document: object
    other_document: object
    interest: object
    email: object
    city: object
    track: object
    # The owner's completed application, its certificate, and a spare one to revoke.
    completed_application: object = None
    certificate: object = None
    spare_certificate: object = None

    def user(self, role):
        """The user playing ``role`` (None for anonymous)."""
        return None if role == "anonymous" else getattr(self, role)


def add_document(application, kind="membership", content=PDF):
    """A stored PDF for ``application`` (file on disk under UPLOAD_FOLDER and its row)."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(16) + ".pdf"
    (folder / stored).write_bytes(content)
    doc = Document(
        application_id=application.id,
        kind=kind,
        original_name="attestation.pdf",
        stored_name=stored,
        content_type="application/pdf",
        size=len(content),
        sha256="0" * 64,
    )
    db.session.add(doc)
    db.session.flush()
    return doc


def build_world():
    """Create the objects; the caller's requests commit them (PortalClient commits first)."""
    city = factories.city("Rabat")
    track = factories.track()
    offering = factories.offering(track=track, city=city)
    other_offering = factories.offering(city=city)
    spare_offering = factories.offering(city=city)
    owner = factories.user(profile={"city": city})
    other_applicant = factories.user(profile={"city": city})
    application = factories.application(owner, offering)
    other_application = factories.application(other_applicant, other_offering)
    withdraw_application = factories.application(owner, spare_offering)
    document = add_document(application)
    other_document = add_document(other_application)
    interest = Interest(applicant_id=owner.id, track_id=track.id, city_id=factories.city("Fes").id)
    db.session.add(interest)
    email = OutboxEmail(
        to_address=owner.email,
        template="confirm_email",
        locale="fr",
        subject="Sujet",
        body_text="Texte",
        body_html="<p>Texte</p>",
        status="failed",
        user_id=owner.id,
    )
    db.session.add(email)
    association = find_or_declare(
        name_fr="Association Al Amal",
        registration_number="RSK-2015-0421",
        field=AssociationField.SOCIAL,
        city_id=city.id,
    )
    owner.profile.association = association
    # The other applicant is the association's referent: they decide on the owner's claim.
    association.referents.append(other_applicant)
    world = World(
        association=association,
        membership=claim(owner, association),
        offering=offering,
        other_offering=other_offering,
        spare_offering=spare_offering,
        owner=owner,
        other_applicant=other_applicant,
        reviewer=factories.reviewer(offering),
        other_reviewer=factories.reviewer(other_offering),
        admin=factories.user(role="admin"),
        target_user=factories.user(role="reviewer"),
        application=application,
        other_application=other_application,
        withdraw_application=withdraw_application,
        document=document,
        other_document=other_document,
        interest=interest,
        email=email,
        city=city,
        track=track,
    )
    _add_certificates(world)
    db.session.flush()
    return world


def _add_certificates(world):
    """The owner completed a past course: a certificate, and a spare one (another participant)."""
    started = factories.offering(city=world.city, course_starts_on=utcnow() - timedelta(days=60))
    world.completed_application = factories.application(world.owner, started, status="completed")
    world.certificate = issue(world.completed_application, CertificateLanguage.FR)
    spare = factories.application(factories.user(profile={"city": world.city}), started, status="completed")
    world.spare_certificate = issue(spare, CertificateLanguage.FR)


def new_client(app):
    """A test client whose requests each run in their own app context (see PortalClient)."""
    return app.test_client()


def clients_for(app, world, roles=ROLES):
    """One client per role, logged in through the real login form."""
    clients = {}
    for role in roles:
        client = new_client(app)
        user = world.user(role)
        if user is not None:
            response = factories.login(client, user)
            assert response.status_code == 302, f"{role} could not log in"
        clients[role] = client
    return clients


def csrf_token(client, path="/auth/login"):
    """The CSRF token of a form on ``path``, as the page gives it to this client."""
    html = client.get(path).get_data(as_text=True)
    tag = _TOKEN_INPUT.search(html)
    assert tag, f"no CSRF token on {path}"
    return _VALUE.search(tag.group(0)).group(1)
