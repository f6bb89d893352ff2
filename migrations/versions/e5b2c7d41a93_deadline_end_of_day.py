"""application deadlines mean the whole of their day

Until now an offering closed at the exact moment typed in the form (or, for the seeded
offerings, at midnight UTC), while every page showed only its day: someone applying
during that day could be refused. From now on ``closes_at`` is the last moment of the
last day, in Moroccan time. Existing offerings keep the day they showed and close at its
end (a window only ever grows here, never shrinks).

Revision ID: e5b2c7d41a93
Revises: ad768a2d4fea
Create Date: 2026-12-02 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

from portal.timeutil import end_of_local_day, local_day

# revision identifiers, used by Alembic.
revision = "e5b2c7d41a93"
down_revision = "ad768a2d4fea"
branch_labels = None
depends_on = None

offering = sa.table("offering", sa.column("id", sa.Integer), sa.column("closes_at", sa.DateTime))


def upgrade():
    connection = op.get_bind()
    for row in connection.execute(sa.select(offering.c.id, offering.c.closes_at)).all():
        end = end_of_local_day(local_day(row.closes_at))
        if end != row.closes_at:
            connection.execute(offering.update().where(offering.c.id == row.id).values(closes_at=end))


def downgrade():
    # The moments typed before are not known any more; the later ones are kept.
    pass
