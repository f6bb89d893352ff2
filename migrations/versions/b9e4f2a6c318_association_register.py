"""The register of associations, and each applicant profile linked to its entry

Creates ``association`` (one row per association, its registration number unique once
normalised: upper-case, without spaces and the separators - / . _) and
``applicant_profile.association_id``. The free-text association columns of the profile stay.

Then the data: each distinct normalised registration number among the profiles becomes one
entry "to verify", its name, city and field taken from the earliest profile (account created
first, then lowest id) that typed it, and every profile with that number is linked to it.
A profile with no number (nothing but spaces and separators) gets an entry of its own with no
key: a name is not an identity (two associations may share one), so nothing is merged on a
guess; an administrator merges such entries in the register. Anonymised profiles ("—") are
linked to nothing.

Revision ID: b9e4f2a6c318
Revises: a7d3e9c1f5b2
Create Date: 2026-12-06 23:05:00.000000

"""

import re
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b9e4f2a6c318"
down_revision = "a7d3e9c1f5b2"
branch_labels = None
depends_on = None

# Written out: a migration must not change when the vocabulary does.
ASSOCIATION_FIELDS = (
    "social",
    "education",
    "health",
    "environment",
    "culture",
    "women",
    "youth",
    "disability",
    "rural",
    "rights",
    "other",
)
ASSOCIATION_STATES = ("to_verify", "verified")


# The same normalisation as portal/associations/operations.py, written out (see above).
SEPARATORS = re.compile(r"[\s\-/._]+")
ANONYMISED = "—"


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    op.create_table(
        "association",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_fr", sa.String(length=200), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=True),
        sa.Column("registration_number", sa.String(length=64), nullable=False),
        sa.Column("registration_key", sa.String(length=64), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("founded_year", sa.Integer(), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(_in("field", ASSOCIATION_FIELDS), name=op.f("ck_association_field_known")),
        sa.CheckConstraint(_in("state", ASSOCIATION_STATES), name=op.f("ck_association_state_known")),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], name=op.f("fk_association_city_id_city")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_association")),
        sa.UniqueConstraint("registration_key", name=op.f("uq_association_registration_key")),
    )
    with op.batch_alter_table("association", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_association_city_id"), ["city_id"], unique=False)

    with op.batch_alter_table("applicant_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("association_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_applicant_profile_association_id"), ["association_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_applicant_profile_association_id_association"), "association", ["association_id"], ["id"]
        )

    _link_profiles()


def _link_profiles():
    """One register entry per normalised number (or per profile without one), profiles linked."""
    connection = op.get_bind()
    profiles = connection.execute(
        sa.text(
            "SELECT p.id, p.association_name, p.association_registration, p.association_city_id,"
            " p.association_field FROM applicant_profile p JOIN \"user\" u ON u.id = p.user_id"
            " ORDER BY u.created_at, p.id"
        )
    ).all()
    association = sa.table(
        "association",
        sa.column("id", sa.Integer),
        sa.column("name_fr", sa.String),
        sa.column("registration_number", sa.String),
        sa.column("registration_key", sa.String),
        sa.column("city_id", sa.Integer),
        sa.column("field", sa.String),
        sa.column("state", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    profile_table = sa.table("applicant_profile", sa.column("id", sa.Integer), sa.column("association_id", sa.Integer))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    entries = {}
    for profile_id, name, number, city_id, field in profiles:
        if number == ANONYMISED:
            continue
        key = SEPARATORS.sub("", number or "").upper()[:64] or None
        entry_id = entries.get(key) if key else None
        if entry_id is None:
            entry_id = connection.execute(
                association.insert()
                .values(
                    name_fr=(name or "").strip()[:200] or "—",
                    registration_number=(number or "").strip()[:64],
                    registration_key=key,
                    city_id=city_id,
                    field=field,
                    state="to_verify",
                    created_at=now,
                )
                .returning(association.c.id)
            ).scalar_one()
            if key:
                entries[key] = entry_id
        connection.execute(
            profile_table.update().where(profile_table.c.id == profile_id).values(association_id=entry_id)
        )


def downgrade():
    with op.batch_alter_table("applicant_profile", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_applicant_profile_association_id_association"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_applicant_profile_association_id"))
        batch_op.drop_column("association_id")
    with op.batch_alter_table("association", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_association_city_id"))
    op.drop_table("association")
