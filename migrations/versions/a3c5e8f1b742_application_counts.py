"""Applications per offering and status, kept by the workflow

Adds ``application_count`` (offering, status, n), which the workflow changes in the
transaction of every status change so that the dashboard reads a few rows instead of
counting every application, and ``application_day_count`` (offering, day, n), the
arrivals per day counted at submission, for its chart. Both filled from the
applications at upgrade.

Revision ID: a3c5e8f1b742
Revises: a3f6d1e8c524
Create Date: 2026-12-07 02:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3c5e8f1b742"
down_revision = "a3f6d1e8c524"
branch_labels = None
depends_on = None


# Written out: a migration must not change when the vocabulary does.
STATUSES = (
    "submitted",
    "under_review",
    "accepted",
    "waitlisted",
    "rejected",
    "confirmed",
    "withdrawn",
    "expired",
    "completed",
    "not_completed",
)


def upgrade():
    allowed = ", ".join(f"'{s}'" for s in STATUSES)
    op.create_table(
        "application_count",
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.CheckConstraint("n >= 0", name=op.f("ck_application_count_count_not_negative")),
        sa.CheckConstraint(f"status IN ({allowed})", name=op.f("ck_application_count_status_known")),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offering.id"],
            name=op.f("fk_application_count_offering_id_offering"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offering_id", "status", name=op.f("pk_application_count")),
    )
    op.execute(
        "INSERT INTO application_count (offering_id, status, n)"
        " SELECT offering_id, status, COUNT(*) FROM application GROUP BY offering_id, status"
    )
    op.create_table(
        "application_day_count",
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.CheckConstraint("n >= 0", name=op.f("ck_application_day_count_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offering.id"],
            name=op.f("fk_application_day_count_offering_id_offering"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offering_id", "day", name=op.f("pk_application_day_count")),
    )
    # Days in UTC, as the submission times are stored (date() on both databases).
    op.execute(
        "INSERT INTO application_day_count (offering_id, day, n)"
        " SELECT offering_id, date(submitted_at), COUNT(*) FROM application"
        " GROUP BY offering_id, date(submitted_at)"
    )


def downgrade():
    op.drop_table("application_day_count")
    op.drop_table("application_count")
