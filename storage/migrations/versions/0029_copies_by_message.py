"""copies by message, in id order: an edit or a delete reaches a big message's copies a page at a time

Revision ID: 0029_copies_by_message
Revises: 0028_fanout_failures
Create Date: 2026-12-01 18:45:00

An edit (or a delete) of a common-chat message queues one edit per reader's copy. It read every copy
(and each reader's row, one query each) at once: at 100,000 readers, 200,000 statements and as many
objects in one transaction. It now reads them a page at a time by copy id (services/relay.py,
`_copy_pages`); with the message's copies indexed in id order each page is one index range.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0029_copies_by_message'
down_revision: str | None = '0028_fanout_failures'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('relay_copies', schema=None) as batch_op:
        batch_op.drop_index('ix_relay_copies_message')
        batch_op.create_index('ix_relay_copies_message', ['message_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('relay_copies', schema=None) as batch_op:
        batch_op.drop_index('ix_relay_copies_message')
        batch_op.create_index('ix_relay_copies_message', ['message_id'], unique=False)
