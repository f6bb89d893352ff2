"""Accounts: users of every role and the applicant's profile."""

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from portal.associations.models import Association
from portal.auth import totp_secrets
from portal.catalog.models import City, Offering, offering_reviewers
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import AssociationField, EducationLevel, Role, check_in


class User(UserMixin, db.Model):
    """Anyone who logs in. Emails are stored lower-cased, so uniqueness ignores case."""

    __table_args__ = (check_in("role", Role, "role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.APPLICANT.value, index=True)
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    active: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[datetime | None]
    # Bumped when the password changes or the account is deactivated. Flask-Login's
    # identifier embeds it: a second lock, besides deleting the UserSession rows.
    auth_version: Mapped[int] = mapped_column(default=1)
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Second factor (TOTP, RFC 6238). The secret is stored once enrolment is confirmed,
    # encrypted: use the ``totp_secret`` property, never this column (portal.auth.totp_secrets).
    # totp_last_step is the last time step accepted, so a code cannot be replayed.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]

    # Whether the user refers for some association (president or bureau member): read with
    # the request's session row (auth.sessions), so that the conflict-of-interest rules
    # need no query of their own for staff tied to no association. None when the user was
    # loaded without it.
    refers_for_any: Mapped[bool | None] = query_expression()

    profile: Mapped["ApplicantProfile | None"] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan"
    )
    reviewed_offerings: Mapped[list[Offering]] = relationship(
        secondary=offering_reviewers, back_populates="reviewers"
    )

    def get_id(self):
        """Session identifier: the id plus the auth version, so old sessions can be revoked."""
        return f"{self.id}.{self.auth_version}"

    @property
    def is_active(self):
        """Deactivated users cannot log in and their sessions end."""
        return self.active

    @property
    def totp_secret(self):
        """The TOTP secret in clear (decrypted at each read), or None."""
        return totp_secrets.read(self)

    @totp_secret.setter
    def totp_secret(self, secret):
        totp_secrets.store(self, secret)

    @property
    def has_two_factor(self):
        """Whether the user confirmed a TOTP authenticator (checked without decrypting it)."""
        return self.totp_enabled_at is not None and self.totp_secret_encrypted is not None

    @property
    def is_confirmed(self):
        """Whether the email address was confirmed."""
        return self.email_confirmed_at is not None

    @property
    def is_applicant(self):
        """Role check used by templates through the permissions module."""
        return self.role == Role.APPLICANT

    @property
    def is_reviewer(self):
        """Role check."""
        return self.role == Role.REVIEWER

    @property
    def is_admin(self):
        """Role check."""
        return self.role == Role.ADMIN

    @property
    def display_name(self):
        """Full name for applicants, the email for staff."""
        if self.profile:
            return self.profile.full_name
        return self.email


class ApplicantProfile(db.Model):
    """What an applicant says about themselves and their association."""

    __table_args__ = (
        check_in("education_level", EducationLevel, "education_level_known"),
        check_in("association_field", AssociationField, "association_field_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    first_name_ar: Mapped[str | None] = mapped_column(String(80))
    last_name_ar: Mapped[str | None] = mapped_column(String(80))
    # Stored upper-case; NULL once the account is anonymised.
    cin: Mapped[str | None] = mapped_column(String(8), unique=True)
    birth_date: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"), index=True)
    education_level: Mapped[str] = mapped_column(String(32))
    association_name: Mapped[str] = mapped_column(String(200))
    association_registration: Mapped[str] = mapped_column(String(64))
    association_city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"))
    association_field: Mapped[str] = mapped_column(String(64))
    association_role: Mapped[str] = mapped_column(String(120))
    association_years: Mapped[int] = mapped_column(default=0)
    association_description: Mapped[str | None] = mapped_column(Text)
    # The register entry of the association named above (the free-text fields stay, as typed).
    association_id: Mapped[int | None] = mapped_column(ForeignKey("association.id"), index=True)

    user: Mapped[User] = relationship(back_populates="profile")
    city: Mapped[City | None] = relationship(foreign_keys=[city_id])
    association_city: Mapped[City | None] = relationship(foreign_keys=[association_city_id])
    association: Mapped[Association | None] = relationship(back_populates="members")

    @property
    def full_name(self):
        """Latin first and last name."""
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day):
        """Age in whole years on ``day``."""
        if not self.birth_date:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


class UserSession(db.Model):
    """One login: the cookie holds a random token, only its SHA-256 is stored.

    Deleting the row ends the session wherever its cookie is (logout, password change,
    deactivation, the user's own "log out this device"). ``second_factor_at`` records when
    this login passed the TOTP step.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    second_factor_at: Mapped[datetime | None]
    # "Firefox · Android": enough for the user to recognise the device on /me/sessions.
    device: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A single-use recovery code of a staff account, stored as a salted SHA-256."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
