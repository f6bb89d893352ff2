"""The cohort's outcomes: completed and not_completed statuses, and the reason for the latter

``application.status`` and the history's statuses accept the two outcomes of a participant
of the cohort; ``application.completion_reason`` says why one did not complete (never came,
left, excluded). The values are written out here (see f1c8a2d9b7e4). On SQLite the tables
are rebuilt (batch mode) with foreign keys off (migrations/env.py).

Revision ID: c7e1a4b9d253
Revises: d4a8c2e6f913
Create Date: 2026-12-07 01:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c7e1a4b9d253"
down_revision = "d4a8c2e6f913"
branch_labels = None
depends_on = None

BEFORE = ("submitted", "under_review", "accepted", "waitlisted", "rejected", "confirmed", "withdrawn", "expired")
AFTER = (*BEFORE, "completed", "not_completed")
REASONS = ("never_came", "dropped_out", "excluded")

# table: [(constraint name without the ck_<table>_ prefix, column)]
STATUS_COLUMNS = {
    "application": [("status_known", "status")],
    "status_change": [("from_status_known", "from_status"), ("to_status_known", "to_status")],
}


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_status_checks(values):
    for table, checks in STATUS_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column in checks:
                batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
                batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), _in(column, values))


def upgrade():
    _replace_status_checks(AFTER)
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completion_reason", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_application_completion_reason_known"), _in("completion_reason", REASONS)
        )


def downgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_application_completion_reason_known"), type_="check")
        batch_op.drop_column("completion_reason")
    _replace_status_checks(BEFORE)
