"""At most N seats per association in an offering

Adds ``offering.max_seats_per_association`` (NULL: no limit; existing offerings keep none),
the counters ``offering_association_seat`` (seats held per offering and association) and
``application.seat_association_id`` (the counter a held seat is counted in). The seats
held at upgrade time are counted in their applicant's association, so that a cap set
later on an existing offering counts them.

Revision ID: d4a8c2e6f913
Revises: b9e4f2a6c318
Create Date: 2026-12-06 23:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4a8c2e6f913"
down_revision = "b9e4f2a6c318"
branch_labels = None
depends_on = None


# Written out: a migration must not change when the vocabulary does.
SEAT_HOLDING = ("accepted", "confirmed")


def upgrade():
    with op.batch_alter_table("offering", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_seats_per_association", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_offering_association_cap_positive"),
            "max_seats_per_association IS NULL OR max_seats_per_association >= 1",
        )
    op.create_table(
        "offering_association_seat",
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.CheckConstraint("held >= 0", name=op.f("ck_offering_association_seat_association_seats_not_negative")),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_offering_association_seat_association_id_association"),
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"], ["offering.id"], name=op.f("fk_offering_association_seat_offering_id_offering")
        ),
        sa.PrimaryKeyConstraint("offering_id", "association_id", name=op.f("pk_offering_association_seat")),
    )
    with op.batch_alter_table("offering_association_seat", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offering_association_seat_association_id"), ["association_id"], unique=False
        )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seat_association_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_application_seat_association_id"), ["seat_association_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_application_seat_association_id_association"),
            "association",
            ["seat_association_id"],
            ["id"],
        )
    holding = ", ".join(f"'{status}'" for status in SEAT_HOLDING)
    op.execute(
        "UPDATE application SET seat_association_id = (SELECT p.association_id FROM applicant_profile p"
        f" WHERE p.user_id = application.applicant_id) WHERE status IN ({holding})"
    )
    op.execute(
        "INSERT INTO offering_association_seat (offering_id, association_id, held)"
        " SELECT offering_id, seat_association_id, COUNT(*) FROM application"
        f" WHERE status IN ({holding}) AND seat_association_id IS NOT NULL"
        " GROUP BY offering_id, seat_association_id"
    )


def downgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_application_seat_association_id_association"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_application_seat_association_id"))
        batch_op.drop_column("seat_association_id")
    with op.batch_alter_table("offering_association_seat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offering_association_seat_association_id"))
    op.drop_table("offering_association_seat")
    with op.batch_alter_table("offering", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_offering_association_cap_positive"), type_="check")
        batch_op.drop_column("max_seats_per_association")
