"""CHECK constraints on every vocabulary column

Each column that stores a value of a vocabulary (portal/vocabulary.py) accepts only the
values known when this revision was written: a role, a status, a recommendation, a
domain, an education level, an association's field. The values are written out here, as
a migration must not change when the code does; tests/unit/test_migrations.py checks that
the migrated database lists exactly the vocabulary's values, so adding one means a new
revision. On SQLite the tables are rebuilt (batch mode) with foreign keys off (see
migrations/env.py), so that rebuilding ``user`` deletes nothing that refers to it.

Revision ID: f1c8a2d9b7e4
Revises: e5b2c7d41a93
Create Date: 2026-12-06 22:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f1c8a2d9b7e4"
down_revision = "e5b2c7d41a93"
branch_labels = None
depends_on = None

APPLICATION_STATUSES = (
    "submitted",
    "under_review",
    "accepted",
    "waitlisted",
    "rejected",
    "confirmed",
    "withdrawn",
    "expired",
)
EDUCATION_LEVELS = ("none", "primary", "secondary", "baccalaureate", "bac2", "licence", "master")
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

# table: [(constraint name without the ck_<table>_ prefix, column, values)]
CHECKS = {
    "user": [("role_known", "role", ("applicant", "reviewer", "admin"))],
    "applicant_profile": [
        ("education_level_known", "education_level", EDUCATION_LEVELS),
        ("association_field_known", "association_field", ASSOCIATION_FIELDS),
    ],
    "track": [
        ("domain_known", "domain", ("digital", "management")),
        ("min_education_known", "min_education", EDUCATION_LEVELS),
    ],
    "offering": [("status_known", "status", ("draft", "open", "closed"))],
    "application": [("status_known", "status", APPLICATION_STATUSES)],
    "status_change": [
        ("from_status_known", "from_status", APPLICATION_STATUSES),
        ("to_status_known", "to_status", APPLICATION_STATUSES),
    ],
    "review": [("recommendation_known", "recommendation", ("accept", "waitlist", "reject"))],
    "outbox_email": [("status_known", "status", ("pending", "sending", "sent", "failed"))],
}


def _condition(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, values in checks:
                batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), _condition(column, values))


def downgrade():
    for table, checks in reversed(CHECKS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _column, _values in reversed(checks):
                batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
