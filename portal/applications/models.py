"""Applications, their documents, their history, and applicants' wishes for new cities."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from portal.auth.models import User
from portal.catalog.models import City, Offering, Track
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import ApplicationStatus, CompletionReason, DocumentKind, check_in


class Application(db.Model):
    """An applicant's application to an offering; its status changes only via ``transition``."""

    __table_args__ = (
        UniqueConstraint("applicant_id", "offering_id"),
        # The review queue filters by offering and status and sorts by date or by score; the
        # waitlist is ranked by score. Each sort reads its page off one of these in order
        # (SQLite puts NULLs last in DESC, like the queue's ``NULLS LAST``; PostgreSQL sorts
        # the offering's rows of one status after the index has narrowed them).
        Index("ix_application_offering_status_submitted", "offering_id", "status", "submitted_at", "id"),
        # The counters above the queue (per offering and status, less the reviewer's own and
        # conflicted applications) read this index alone, never the table.
        Index("ix_application_offering_status_applicant", "offering_id", "status", "applicant_id"),
        # A reviewer's unfiltered queue (all their offerings, by date) merges one ordered scan
        # per offering off this one instead of sorting every application of them all; the
        # applicant is in it so that leaving out the reviewer's own (and conflicted) ones
        # reads the index alone.
        Index("ix_application_offering_submitted", "offering_id", "submitted_at", "id", "applicant_id"),
        check_in("status", ApplicationStatus, "status_known"),
        check_in("completion_reason", CompletionReason, "completion_reason_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id"))
    # The association whose counter this application's seat is counted in, while it holds
    # one: released from that counter even if the profile changed association meanwhile.
    seat_association_id: Mapped[int | None] = mapped_column(ForeignKey("association.id"), index=True)
    academic_year: Mapped[str] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(16), default=ApplicationStatus.SUBMITTED.value, index=True)
    motivation: Mapped[str] = mapped_column(Text)
    expected_benefit: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    confirmation_deadline: Mapped[datetime | None]
    mean_score: Mapped[float | None]
    # Why a participant did not complete the training (set with the not_completed status).
    completion_reason: Mapped[str | None] = mapped_column(String(16))
    # Compare-and-set counter: every status change bumps it in the same conditional UPDATE.
    version: Mapped[int] = mapped_column(default=1)

    applicant: Mapped[User] = relationship()
    offering: Mapped[Offering] = relationship()
    documents: Mapped[list["Document"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Document.id"
    )
    history: Mapped[list["StatusChange"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="StatusChange.id"
    )


# Declared outside the class: a DESC column needs the mapped attribute (see __table_args__).
Index(
    "ix_application_offering_status_score",
    Application.offering_id,
    Application.status,
    Application.mean_score.desc(),
    Application.submitted_at,
    Application.id,
)

# Best candidate first: the highest mean score (unscored candidates last), then the earliest
# submission; the id makes the order total. Waitlist promotion takes candidates in this
# order and the review queue's "best score" sort shows them in it.
BEST_CANDIDATE_FIRST = (Application.mean_score.desc().nulls_last(), Application.submitted_at, Application.id)


class ApplicationCount(db.Model):
    """How many applications of one offering are in one status, kept by the workflow.

    Changed only in ``portal/applications/counts.py``, called by ``workflow.start`` and
    ``workflow.transition`` in the transaction of each change, with an atomic
    ``n = n + 1`` / ``n = n - 1``: the dashboard reads these rows instead of counting
    every application, and they are never stale. ``flask counts check`` compares them
    with the applications.
    """

    __table_args__ = (
        check_in("status", ApplicationStatus, "status_known"),
        CheckConstraint("n >= 0", name="count_not_negative"),
    )

    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class ApplicationDayCount(db.Model):
    """How many applications to one offering arrived on one day (UTC), kept at submission.

    Written by ``counts.count_arrival`` with the status count, read by the dashboard's
    chart of applications per day.
    """

    __table_args__ = (CheckConstraint("n >= 0", name="count_not_negative"),)

    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


def own_application(user_id, reference):
    """The application ``reference`` of the user ``user_id``, with its track and city, or None.

    Nobody reaches another person's application through its reference (their pages 404).
    """
    return db.session.scalar(
        select(Application)
        .options(
            joinedload(Application.offering).joinedload(Offering.track),
            joinedload(Application.offering).joinedload(Offering.city),
        )
        .where(Application.reference == reference, Application.applicant_id == user_id)
    )


class Document(db.Model):
    """A file uploaded with an application, stored under a random name."""

    __table_args__ = (check_in("kind", DocumentKind, "kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="documents")


class StatusChange(db.Model):
    """Append-only history of an application's transitions."""

    __table_args__ = (
        check_in("from_status", ApplicationStatus, "from_status_known"),
        check_in("to_status", ApplicationStatus, "to_status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class Interest(db.Model):
    """An applicant's wish for a track in a city where it is not offered (demand signal)."""

    __table_args__ = (UniqueConstraint("applicant_id", "track_id", "city_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id"))
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the track opened in the city and the applicant was emailed (sent once).
    notified_at: Mapped[datetime | None]

    applicant: Mapped[User] = relationship()
    track: Mapped[Track] = relationship()
    city: Mapped[City] = relationship()
