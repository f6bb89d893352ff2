"""Regions, cities, tracks and offerings: what can be applied to, and where."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint, and_, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import Localized
from portal.timeutil import utcnow
from portal.vocabulary import Domain, EducationLevel, OfferingStatus, check_in

offering_reviewers = Table(
    "offering_reviewer",
    db.metadata,
    Column("offering_id", ForeignKey("offering.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Region(Localized, db.Model):
    """One of Morocco's twelve regions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_fr: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    cities: Mapped[list["City"]] = relationship(back_populates="region", order_by="City.name_fr")

    @property
    def name(self):
        """Name in the current language."""
        return self.localized("name")


class City(Localized, db.Model):
    """A city where applicants live and where tracks may be offered."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name_fr: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    region: Mapped[Region] = relationship(back_populates="cities")

    @property
    def name(self):
        """Name in the current language."""
        return self.localized("name")


class Track(Localized, db.Model):
    """A specialised training track (e.g. ``NUM-TRANS``)."""

    __table_args__ = (
        check_in("domain", Domain, "domain_known"),
        check_in("min_education", EducationLevel, "min_education_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    domain: Mapped[str] = mapped_column(String(32), index=True)
    min_education: Mapped[str] = mapped_column(String(32), default=EducationLevel.SECONDARY.value)
    title_fr: Mapped[str] = mapped_column(String(200))
    title_ar: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_fr: Mapped[str] = mapped_column(Text, default="")
    description_ar: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")

    offerings: Mapped[list["Offering"]] = relationship(back_populates="track")

    @property
    def title(self):
        """Title in the current language."""
        return self.localized("title")

    @property
    def description(self):
        """Description in the current language."""
        return self.localized("description")


class Offering(db.Model):
    """A track in a city for an academic year, with its seats and application window.

    The window runs from ``opens_at`` to ``closes_at`` inclusive. Administrators pick
    days: ``opens_at`` is the first moment of the first day and ``closes_at`` the last
    moment (23:59:59.999999) of the last day, in Moroccan time, stored in UTC; so a
    deadline shown as a day means the whole of that day.

    ``seats_held`` counts the applications that hold a seat (accepted or confirmed). It is
    changed only by the workflow, with a conditional UPDATE, and a CHECK constraint keeps
    it within ``seats`` whatever the concurrency. ``max_seats_per_association`` caps the
    seats the members of one association may hold (None: no cap); the workflow keeps it
    with the counters of ``OfferingAssociationSeat``.
    """

    __table_args__ = (
        UniqueConstraint("track_id", "city_id", "academic_year"),
        CheckConstraint("seats_held >= 0 AND seats_held <= seats", name="seats_within_capacity"),
        CheckConstraint("seats >= 0", name="seats_not_negative"),
        CheckConstraint(
            "max_seats_per_association IS NULL OR max_seats_per_association >= 1",
            name="association_cap_positive",
        ),
        check_in("status", OfferingStatus, "status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id"), index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    academic_year: Mapped[str] = mapped_column(String(9), index=True)
    seats: Mapped[int] = mapped_column(default=25)
    seats_held: Mapped[int] = mapped_column(default=0)
    max_seats_per_association: Mapped[int | None]
    # Only applicants whose membership an association referent endorsed may be accepted.
    endorsement_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    course_starts_on: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=OfferingStatus.DRAFT.value, index=True)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    track: Mapped[Track] = relationship(back_populates="offerings")
    city: Mapped[City] = relationship()
    reviewers: Mapped[list["User"]] = relationship(  # noqa: F821
        secondary=offering_reviewers, back_populates="reviewed_offerings"
    )

    @property
    def seats_left(self):
        """Seats not yet held by an accepted or confirmed applicant."""
        return max(self.seats - self.seats_held, 0)


class OfferingAssociationSeat(db.Model):
    """The seats the members of one association hold in one offering.

    Changed only by the workflow, with a conditional UPDATE (``held`` below the offering's
    cap), as ``Offering.seats_held`` is: concurrent accepts cannot exceed the cap.
    """

    __table_args__ = (CheckConstraint("held >= 0", name="association_seats_not_negative"),)

    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id"), primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("association.id"), primary_key=True, index=True)
    held: Mapped[int] = mapped_column(default=0)


def is_open():
    """SQL condition: the offering's status is open (whatever its window)."""
    return Offering.status == OfferingStatus.OPEN


def in_window(now):
    """SQL condition: ``now`` lies within the offering's application window."""
    return and_(Offering.opens_at <= now, Offering.closes_at >= now)


def taking_applications(now):
    """SQL condition, the one definition of an open offering: open, and ``now`` in its window."""
    return and_(is_open(), in_window(now))


def open_not_over(now):
    """SQL condition: open and its window not over yet (applications taken now or soon).

    What the demand side asks: an applicant can already apply there, or soon will, so a
    wish for that track in that city is not needed.
    """
    return and_(is_open(), Offering.closes_at >= now)
