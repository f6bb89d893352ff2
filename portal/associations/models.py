"""An association of the register (members point to it from their applicant profile)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from portal.catalog.models import City
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import AssociationField, AssociationState, check_in


class Association(db.Model):
    """One association, known by its registration number (the récépissé de dépôt)."""

    __table_args__ = (
        check_in("field", AssociationField, "field_known"),
        check_in("state", AssociationState, "state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str | None] = mapped_column(String(200))
    # As typed by the first person who declared it (or as an administrator corrected it).
    registration_number: Mapped[str] = mapped_column(String(64))
    # The number normalised (operations.normalise_registration): two spellings of one number
    # are one association. NULL for an entry made from a profile that had no number (the
    # migration), which stays on its own until an administrator merges it.
    registration_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    founded_year: Mapped[int | None]
    contact_email: Mapped[str | None] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(16), default=AssociationState.TO_VERIFY)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Filled by the queries that list entries (portal.admin.queries), None elsewhere.
    member_count: Mapped[int | None] = query_expression()

    city: Mapped[City | None] = relationship()
    # The applicant profiles that name this association (named by string: no import of auth).
    members: Mapped[list["ApplicantProfile"]] = relationship(  # noqa: F821
        "ApplicantProfile", back_populates="association"
    )
