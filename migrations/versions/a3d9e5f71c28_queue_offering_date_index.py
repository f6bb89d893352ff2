"""Indexes of the review queue: its counters, and its pages by offering and date

The counters above the queue (applications per offering and status, less the reviewer's
own and conflicted ones) read (offering, status, applicant) alone, never the table; the
unfiltered queue (all of a reviewer's offerings, newest or oldest first) reads each
offering's first rows in date order off (offering, submitted_at, id).

Revision ID: a3d9e5f71c28
Revises: a3c5e8f1b742
Create Date: 2026-12-07 02:05:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a3d9e5f71c28"
down_revision = "a3c5e8f1b742"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_application_offering_status_applicant", "application", ["offering_id", "status", "applicant_id"]
    )
    op.create_index("ix_application_offering_submitted", "application", ["offering_id", "submitted_at", "id"])


def downgrade():
    op.drop_index("ix_application_offering_submitted", table_name="application")
    op.drop_index("ix_application_offering_status_applicant", table_name="application")
