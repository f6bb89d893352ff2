"""Membership endorsed by the association

Adds the referents of an association (``association_referent``: accounts named by an
administrator), the members' claims (``membership``: one per applicant, its association
and endorsement ``pending | endorsed | declined``, who decided and when) and
``offering.endorsement_required`` (false for every existing offering). Each profile that
already names a register entry gets a pending claim: nobody has vouched for it yet.

Revision ID: e7c3f1a9b254
Revises: c7e1a4b9d253
Create Date: 2026-12-07 01:10:00.000000

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7c3f1a9b254"
down_revision = "c7e1a4b9d253"
branch_labels = None
depends_on = None


# Written out: a migration must not change when the vocabulary does.
STATES = ("pending", "endorsed", "declined")


def upgrade():
    op.create_table(
        "association_referent",
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"], ["association.id"], name=op.f("fk_association_referent_association_id_association")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_association_referent_user_id_user")),
        sa.PrimaryKeyConstraint("association_id", "user_id", name=op.f("pk_association_referent")),
    )
    with op.batch_alter_table("association_referent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_association_referent_user_id"), ["user_id"], unique=False)
    allowed = ", ".join(f"'{state}'" for state in STATES)
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"state IN ({allowed})", name=op.f("ck_membership_state_known")),
        sa.ForeignKeyConstraint(
            ["association_id"], ["association.id"], name=op.f("fk_membership_association_id_association")
        ),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_membership_decided_by_id_user")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_membership_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("user_id", name=op.f("uq_membership_user_id")),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_association_id"), ["association_id"], unique=False)
    with op.batch_alter_table("offering", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("endorsement_required", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.get_bind().execute(
        sa.text(
            "INSERT INTO membership (user_id, association_id, state, claimed_at)"
            " SELECT user_id, association_id, :pending, :now FROM applicant_profile"
            " WHERE association_id IS NOT NULL"
        ),
        {"pending": STATES[0], "now": datetime.now(UTC).replace(tzinfo=None)},
    )


def downgrade():
    with op.batch_alter_table("offering", schema=None) as batch_op:
        batch_op.drop_column("endorsement_required")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_association_id"))
    op.drop_table("membership")
    with op.batch_alter_table("association_referent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_association_referent_user_id"))
    op.drop_table("association_referent")
