"""the device of each session

Each login keeps a short description of the browser and system it came from (never the
raw User-Agent header nor the address), so that users can recognise their devices on
/me/sessions and log out the ones they do not know.

Revision ID: c3a91f5d2e10
Revises: b047483ab18b
Create Date: 2026-11-29 15:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3a91f5d2e10"
down_revision = "b047483ab18b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_column("device")
