"""Failed attempts per webhook update, so one that always fails is given up after a few

Revision ID: 0026_webhook_failures
Revises: 0025_fanout_cursor
Create Date: 2026-12-01 15:00:00

An update whose handling failed outside the error router was answered 500 every time, and Telegram
sent it again forever, holding the chat's next updates behind it (bot/server.py). The count of
failed attempts lets the webhook give up after a few.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026_webhook_failures'
down_revision: str | None = '0025_fanout_cursor'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_updates') as batch:
        batch.add_column(sa.Column('failures', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('webhook_updates') as batch:
        batch.drop_column('failures')
