"""fan-out cursor: a common-chat message to many members is enqueued page by page

Revision ID: 0025_fanout_cursor
Revises: 0024_fsm_states
Create Date: 2026-12-01 15:00:00

A message to the common chat with more readers than a page (FAN_OUT_PAGE) is not enqueued in the
transaction that relays it: its copies are enqueued a page of readers at a time (by users.id), each
page in a transaction of its own (services/relay.py, bot/fanout.py). `fanout_cursor` is the last
users.id done (0: none yet; NULL: nothing left, as for every other message), `fanout_owner` and
`fanout_until` the lease of the instance paging it: a crashed instance's fan-out is resumed from the
cursor once the lease runs out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025_fanout_cursor'
down_revision: str | None = '0024_fsm_states'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Partial: only the messages still being paged (a handful at most); relaying pays nothing for it.
WHERE = 'fanout_cursor IS NOT NULL'


def upgrade() -> None:
    with op.batch_alter_table('relay_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fanout_cursor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fanout_owner', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('fanout_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            'ix_relay_messages_fanout', ['id'], unique=False,
            sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table('relay_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_relay_messages_fanout', sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
        batch_op.drop_column('fanout_until')
        batch_op.drop_column('fanout_owner')
        batch_op.drop_column('fanout_cursor')
