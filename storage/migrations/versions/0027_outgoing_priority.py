"""Outgoing rows carry their priority and the member they are sent on behalf of

Revision ID: 0027_outgoing_priority
Revises: 0026_webhook_failures
Create Date: 2026-12-01 15:10:00

The claim takes relayed copies before broadcasts and bulk notices (`priority`: 1 relay, 2 bulk), and
takes turns between authors (`sender_id`: the member a relayed copy comes from), so one busy author's
fan-outs do not hold up another's message. Existing rows are relays with no known sender.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027_outgoing_priority'
down_revision: str | None = '0026_webhook_failures'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outgoing') as batch:
        batch.add_column(sa.Column('priority', sa.SmallInteger(), server_default='1', nullable=False))
        batch.add_column(sa.Column('sender_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outgoing') as batch:
        batch.drop_column('sender_id')
        batch.drop_column('priority')
