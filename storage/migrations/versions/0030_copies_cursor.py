"""copies cursor: a big message's edit or delete reaches its copies a page per transaction

Revision ID: 0030_copies_cursor
Revises: 0029_copies_by_message
Create Date: 2026-12-01 21:00:00

An edit or a delete of a common-chat message queued an edit (or a delete) for every reader's copy in
the transaction that made it: at 100,000 readers about 1.6 s holding SQLite's write lock, with every
other writer waiting. Now the transaction reaches the first page of copies, and the rest go a page per
transaction (bot/fanout.py, `RelayService.copies_page`) from `copies_cursor`, the last copy reached; a
crashed instance's are resumed by any. An edit goes up to `copies_until`, the last copy when it was
made (a fan-out still paged meanwhile writes later copies with the new text). `copies_failures` counts
failed attempts at one page, as `fanout_failures` does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030_copies_cursor'
down_revision: str | None = '0029_copies_by_message'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('relay_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('copies_cursor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('copies_until', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('copies_failures', sa.SmallInteger(), server_default='0', nullable=False))
        batch_op.create_index(
            'ix_relay_messages_copies',
            ['id'],
            unique=False,
            sqlite_where=sa.text('copies_cursor IS NOT NULL'),
            postgresql_where=sa.text('copies_cursor IS NOT NULL'),
        )


def downgrade() -> None:
    with op.batch_alter_table('relay_messages', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_relay_messages_copies',
            sqlite_where=sa.text('copies_cursor IS NOT NULL'),
            postgresql_where=sa.text('copies_cursor IS NOT NULL'),
        )
        batch_op.drop_column('copies_failures')
        batch_op.drop_column('copies_until')
        batch_op.drop_column('copies_cursor')
