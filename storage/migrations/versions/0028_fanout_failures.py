"""fan-out failures: a page that keeps failing is given up instead of stalling the common chat

Revision ID: 0028_fanout_failures
Revises: 0027_outgoing_priority
Create Date: 2026-12-01 16:30:00

A paged common-chat message's pages go one message at a time, oldest first (bot/fanout.py): one whose
page always fails (a bug, a row the page cannot write) held every later common-chat message behind it
for ever. `fanout_failures` counts the failed attempts at its current page (a page that commits resets
it); after a few the fan-out is given up (services/relay.py, `RelayService.fan_out_failed`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028_fanout_failures'
down_revision: str | None = '0027_outgoing_priority'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('relay_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fanout_failures', sa.SmallInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('relay_messages', schema=None) as batch_op:
        batch_op.drop_column('fanout_failures')
