"""Certificates of completion: one per completed application, with a public number

Revision ID: a3f6d1e8c524
Revises: e7c3f1a9b254
Create Date: 2026-12-07 02:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3f6d1e8c524"
down_revision = "e7c3f1a9b254"
branch_labels = None
depends_on = None

# Written out (see f1c8a2d9b7e4): the vocabulary may change after this migration.
LANGUAGES = ("fr", "ar")


def upgrade():
    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            f"language IN ({', '.join(repr(v) for v in LANGUAGES)})",
            name=op.f("ck_certificate_language_known"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_certificate_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["user.id"], name=op.f("fk_certificate_revoked_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("application_id", name=op.f("uq_certificate_application_id")),
        sa.UniqueConstraint("number", name=op.f("uq_certificate_number")),
    )


def downgrade():
    op.drop_table("certificate")
