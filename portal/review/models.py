"""Reviews: one per reviewer and application, with a three-criterion rubric."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.applications.models import Application
from portal.auth.models import User
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import Recommendation, check_in

CRITERIA = ("score_motivation", "score_engagement", "score_fit")


class Review(db.Model):
    """A reviewer's scores (0–5 each), recommendation and comment on an application."""

    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id"),
        CheckConstraint(
            "score_motivation BETWEEN 0 AND 5 AND score_engagement BETWEEN 0 AND 5"
            " AND score_fit BETWEEN 0 AND 5",
            name="scores_in_range",
        ),
        check_in("recommendation", Recommendation, "recommendation_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    score_motivation: Mapped[int]
    score_engagement: Mapped[int]
    score_fit: Mapped[int]
    recommendation: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship()
    reviewer: Mapped[User] = relationship()

    @property
    def total(self):
        """Sum of the three criteria (0–15)."""
        return self.score_motivation + self.score_engagement + self.score_fit
