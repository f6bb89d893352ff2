"""The certificate of completion of a participant: one per completed application."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.applications.models import Application
from portal.auth.models import User
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import CertificateLanguage, check_in


class Certificate(db.Model):
    """A participant's certificate: its public number, when it was issued, whether it was revoked.

    The number stays the same whatever language the PDF is rendered in: ``language`` only
    remembers the language of the last download (the participant's last choice).
    """

    __table_args__ = (check_in("language", CertificateLanguage, "language_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    # Room beyond the two letters: a wrong value is refused by the CHECK, on both databases.
    language: Mapped[str | None] = mapped_column(String(8))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship()
    revoked_by: Mapped[User | None] = relationship()

    @property
    def revoked(self):
        """Whether an administrator revoked the certificate."""
        return self.revoked_at is not None
