"""The demand the dashboard ranks, kept as counts

Adds ``interest_count`` (track, city, n): the interests of active accounts, and
``resident_count`` (city, n): the active applicant accounts whose profile lives in the
city. The writes that change them keep them (portal/demand/counts.py), so the dashboard's
demand ranking reads a few rows instead of counting every interest and profile. Both
filled at upgrade with what the dashboard counted.

Revision ID: b8e4d2a6c931
Revises: a3d9e5f71c28
Create Date: 2026-12-07 05:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b8e4d2a6c931"
down_revision = "a3d9e5f71c28"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "interest_count",
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.CheckConstraint("n >= 0", name=op.f("ck_interest_count_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["track_id"], ["track.id"], name=op.f("fk_interest_count_track_id_track"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_interest_count_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("track_id", "city_id", name=op.f("pk_interest_count")),
    )
    op.execute(
        "INSERT INTO interest_count (track_id, city_id, n)"
        " SELECT interest.track_id, interest.city_id, COUNT(*) FROM interest"
        ' JOIN "user" ON "user".id = interest.applicant_id'
        ' WHERE "user".active = true'
        " GROUP BY interest.track_id, interest.city_id"
    )
    op.create_table(
        "resident_count",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.CheckConstraint("n >= 0", name=op.f("ck_resident_count_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_resident_count_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("city_id", name=op.f("pk_resident_count")),
    )
    # The role written out: a migration must not change when the vocabulary does.
    op.execute(
        "INSERT INTO resident_count (city_id, n)"
        " SELECT applicant_profile.city_id, COUNT(*) FROM applicant_profile"
        ' JOIN "user" ON "user".id = applicant_profile.user_id'
        ' WHERE "user".active = true AND "user".role = \'applicant\' AND applicant_profile.city_id IS NOT NULL'
        " GROUP BY applicant_profile.city_id"
    )


def downgrade():
    op.drop_table("resident_count")
    op.drop_table("interest_count")
