"""review queue and waitlist indexes

The queue pages and the waitlist ranks read (offering, status) then the sort columns off
an index, so the last page of the queue costs what the first does.

Revision ID: b047483ab18b
Revises: 5d74e62095ca
Create Date: 2026-11-29 11:53:55.491688

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b047483ab18b"
down_revision = "5d74e62095ca"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index("ix_application_offering_score")
        batch_op.drop_index("ix_application_offering_status_submitted")
        batch_op.create_index(
            "ix_application_offering_status_submitted",
            ["offering_id", "status", "submitted_at", "id"],
            unique=False,
        )
    op.create_index(
        "ix_application_offering_status_score",
        "application",
        ["offering_id", "status", sa.literal_column("mean_score").desc(), "submitted_at", "id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_application_offering_status_score", table_name="application")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index("ix_application_offering_status_submitted")
        batch_op.create_index(
            "ix_application_offering_status_submitted",
            ["offering_id", "status", "submitted_at"],
            unique=False,
        )
        batch_op.create_index("ix_application_offering_score", ["offering_id", "mean_score"], unique=False)
