"""emails with a secret link are rendered when sent, and their body is never kept

Address confirmations, password resets and staff invitations carry a link that acts on
an account. Their outbox rows no longer hold a body: the worker renders them when it
sends them. Rows already written lose their body here: those still to send are
rendered afresh (with a new link) by the worker, those sent or failed keep only their
subject, so the database holds no usable link.

Revision ID: ad768a2d4fea
Revises: 75621f27484a
Create Date: 2026-12-02 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ad768a2d4fea"
down_revision = "75621f27484a"
branch_labels = None
depends_on = None

SECRET_LINK_TEMPLATES = ("confirm_email", "reset_password", "staff_invite")


def upgrade():
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("render_at_send", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    outbox = sa.table(
        "outbox_email",
        sa.column("template", sa.String),
        sa.column("body_text", sa.Text),
        sa.column("body_html", sa.Text),
        sa.column("render_at_send", sa.Boolean),
    )
    op.execute(
        outbox.update()
        .where(outbox.c.template.in_(SECRET_LINK_TEMPLATES))
        .values(body_text="", body_html="", render_at_send=True)
    )


def downgrade():
    # Rows still to render have no body: older code would send them empty.
    outbox = sa.table("outbox_email", sa.column("status", sa.String), sa.column("render_at_send", sa.Boolean))
    op.execute(
        outbox.delete().where(outbox.c.render_at_send.is_(True), outbox.c.status.in_(("pending", "sending")))
    )
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_column("render_at_send")
