"""CHECK constraint on the kind of an application's document

``document.kind`` accepts only the kinds known when this revision was written (see
``DocumentKind`` in portal/vocabulary.py); tests/unit/test_migrations.py checks that the
migrated database lists exactly the vocabulary's values. On SQLite the table is rebuilt
(batch mode) with foreign keys off (migrations/env.py).

Revision ID: a7d3e9c1f5b2
Revises: f1c8a2d9b7e4
Create Date: 2026-12-06 22:50:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a7d3e9c1f5b2"
down_revision = "f1c8a2d9b7e4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_document_kind_known"), "kind IN ('membership', 'cin')")


def downgrade():
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_document_kind_known"), type_="check")
