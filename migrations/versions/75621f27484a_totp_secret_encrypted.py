"""TOTP secrets encrypted at rest

The staff's TOTP secrets move from ``user.totp_secret`` (in clear) to
``user.totp_secret_encrypted``: a Fernet token made with the first key of the
application's TOTP_ENCRYPTION_KEYS, long enough for it. The downgrade decrypts them back.
Run it with the same keys as the application (``flask --app portal db upgrade``).

A new column rather than a longer one: on SQLite, changing a column's type rebuilds the
table, and rebuilding ``user`` would cascade deletions into the tables that refer to it.

Revision ID: 75621f27484a
Revises: c3a91f5d2e10
Create Date: 2026-12-01 17:00:00.000000

"""

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

# revision identifiers, used by Alembic.
revision = "75621f27484a"
down_revision = "c3a91f5d2e10"
branch_labels = None
depends_on = None

user = sa.table(
    "user",
    sa.column("id", sa.Integer),
    sa.column("totp_secret", sa.String),
    sa.column("totp_secret_encrypted", sa.String),
)


def _box():
    # create_app has checked the keys and made the setting a list.
    return MultiFernet([Fernet(key) for key in current_app.config["TOTP_ENCRYPTION_KEYS"]])


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret_encrypted", sa.String(length=255), nullable=True))
    connection = op.get_bind()
    box = _box()
    rows = connection.execute(sa.select(user.c.id, user.c.totp_secret).where(user.c.totp_secret.is_not(None)))
    for user_id, secret in rows.all():
        connection.execute(
            user.update()
            .where(user.c.id == user_id)
            .values(totp_secret_encrypted=box.encrypt(secret.encode()).decode())
        )
    op.drop_column("user", "totp_secret")


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    box = _box()
    rows = connection.execute(
        sa.select(user.c.id, user.c.totp_secret_encrypted).where(user.c.totp_secret_encrypted.is_not(None))
    )
    for user_id, token in rows.all():
        try:
            secret = box.decrypt(token.encode()).decode()
        except InvalidToken:
            raise RuntimeError(
                f"the TOTP secret of user {user_id} cannot be decrypted with TOTP_ENCRYPTION_KEYS"
            ) from None
        connection.execute(user.update().where(user.c.id == user_id).values(totp_secret=secret))
    op.drop_column("user", "totp_secret_encrypted")
