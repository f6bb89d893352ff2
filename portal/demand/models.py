"""The demand the dashboard ranks, kept as counts by the writes that change it."""

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class InterestCount(db.Model):
    """How many interests of active accounts there are for one track in one city.

    Changed only in ``portal/demand/counts.py``, in the transaction of each write that
    changes it (an interest added or withdrawn, an account deactivated, reactivated or
    erased): the dashboard's demand ranking reads these rows instead of counting every
    interest. ``flask counts check`` compares them with the interests.
    """

    __table_args__ = (CheckConstraint("n >= 0", name="count_not_negative"),)

    track_id: Mapped[int] = mapped_column(ForeignKey("track.id", ondelete="CASCADE"), primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class ResidentCount(db.Model):
    """How many active applicant accounts have their profile's residence in one city.

    Kept like ``InterestCount``, by registration, profile edits, role changes,
    deactivation, reactivation and erasure.
    """

    __table_args__ = (CheckConstraint("n >= 0", name="count_not_negative"),)

    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
