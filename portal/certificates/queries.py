"""Reading certificates for the pages (the administrators' list)."""

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from portal.applications.models import Application
from portal.auth.models import ApplicantProfile, User
from portal.catalog.models import Offering
from portal.certificates import numbers
from portal.certificates.models import Certificate
from portal.extensions import db


def _like(text):
    """A LIKE pattern matching ``text`` anywhere, its wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def certificates_page(q, page, per_page):
    """Certificates, newest first, with holder, track and city (one query per page).

    ``q`` finds a number typed in any case or spacing (exactly, or a part of it) or the
    holder's name.
    """
    stmt = (
        select(Certificate)
        .join(Certificate.application)
        .join(Application.applicant)
        .outerjoin(User.profile)
        .join(Application.offering)
        .join(Offering.track)
        .join(Offering.city)
        .options(
            contains_eager(Certificate.application)
            .contains_eager(Application.applicant)
            .contains_eager(User.profile),
            contains_eager(Certificate.application)
            .contains_eager(Application.offering)
            .contains_eager(Offering.track),
            contains_eager(Certificate.application)
            .contains_eager(Application.offering)
            .contains_eager(Offering.city),
        )
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    if q:
        exact = numbers.normalize(q)
        part = "".join(q.split()).upper()
        name = _like(q.lower())
        conditions = [
            Certificate.number.like(_like(part), escape="\\"),
            (ApplicantProfile.first_name + " " + ApplicantProfile.last_name).ilike(name, escape="\\"),
        ]
        if exact:
            conditions.append(Certificate.number == exact)
        stmt = stmt.where(or_(*conditions))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)
