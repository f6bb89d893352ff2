"""An association of the register (members point to it from their applicant profile)."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from portal.catalog.models import City
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import AssociationField, AssociationState, Endorsement, check_in

# The accounts an association names to endorse its members (its president, bureau members).
# Any account may be one, whatever its role; administrators name them.
association_referent = Table(
    "association_referent",
    db.metadata,
    Column("association_id", ForeignKey("association.id"), primary_key=True),
    Column("user_id", ForeignKey("user.id"), primary_key=True, index=True),
)


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
    referents: Mapped[list["User"]] = relationship(  # noqa: F821
        "User", secondary=association_referent, order_by="User.email"
    )


class Membership(db.Model):
    """An applicant's claim to belong to an association, and its endorsement by a referent.

    One per applicant: a profile names one association, and naming another one moves the
    claim there, pending again. ``association_id`` repeats the profile's link so that a
    claim stays what the referent decided on; queries join on both columns, so a claim
    that no longer matches the profile is never shown.
    """

    __table_args__ = (check_in("state", Endorsement, "state_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("association.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=Endorsement.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    # When the applicant named this association (a change of association starts it again).
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)

    association: Mapped[Association] = relationship()
    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
