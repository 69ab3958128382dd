"""outgoing heads: the SQLite claim reads each sender's due heads from an index

Revision ID: 0031_outgoing_heads
Revises: 0030_copies_cursor
Create Date: 2026-12-01 22:00:00

The SQLite claim ranked every due head of the queue (each chat's first pending row) at every claim: at
100,000 members with two common-chat messages queued, ~265 ms a claim of 1,000 rows (~50 ms at 10,000).
Now SQLite triggers keep `outgoing.head` (1 on each chat's first pending row), and a partial index on
(priority, sender_id, id) holds only the heads: the claim reads each sender's first due heads and stops
(`OutgoingRepo.claim`). PostgreSQL gets the column and the index, but no triggers: its claim is unchanged
and `head` stays NULL there. The triggers are created here, not by the models: a later batch migration
that copies `outgoing` on SQLite must create them again (HEAD_TRIGGERS below).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0031_outgoing_heads'
down_revision: str | None = '0030_copies_cursor'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The chat's first pending row has head 1, the others NULL. Ids only grow (a row inserted is after every
# row of its chat: a head only if the chat had no pending row), but a row inserted with a lower id than a
# head's takes its place all the same. A row leaving `pending` (sent, failed, dropped, deleted) hands it
# to the chat's next pending row; one back to `pending` (nothing does it today) is as one inserted.
HEAD_TRIGGERS = (
    """CREATE TRIGGER outgoing_head_insert AFTER INSERT ON outgoing WHEN NEW.status = 'pending'
BEGIN
    UPDATE outgoing SET head = 1 WHERE id = NEW.id AND NOT EXISTS (
        SELECT 1 FROM outgoing e WHERE e.status = 'pending' AND e.chat_id = NEW.chat_id AND e.id < NEW.id);
    UPDATE outgoing SET head = NULL
        WHERE status = 'pending' AND chat_id = NEW.chat_id AND id > NEW.id AND head = 1;
END""",
    """CREATE TRIGGER outgoing_head_done AFTER UPDATE OF status ON outgoing
WHEN OLD.status = 'pending' AND NEW.status IS NOT 'pending'
BEGIN
    UPDATE outgoing SET head = 1 WHERE id = (
        SELECT min(id) FROM outgoing WHERE status = 'pending' AND chat_id = OLD.chat_id) AND head IS NOT 1;
END""",
    """CREATE TRIGGER outgoing_head_again AFTER UPDATE OF status ON outgoing
WHEN OLD.status IS NOT 'pending' AND NEW.status = 'pending'
BEGIN
    UPDATE outgoing SET head = CASE WHEN NOT EXISTS (
        SELECT 1 FROM outgoing e WHERE e.status = 'pending' AND e.chat_id = NEW.chat_id AND e.id < NEW.id)
        THEN 1 END WHERE id = NEW.id;
    UPDATE outgoing SET head = NULL
        WHERE status = 'pending' AND chat_id = NEW.chat_id AND id > NEW.id AND head = 1;
END""",
    """CREATE TRIGGER outgoing_head_deleted AFTER DELETE ON outgoing WHEN OLD.status = 'pending'
BEGIN
    UPDATE outgoing SET head = 1 WHERE id = (
        SELECT min(id) FROM outgoing WHERE status = 'pending' AND chat_id = OLD.chat_id) AND head IS NOT 1;
END""",
)
TRIGGER_NAMES = ('outgoing_head_insert', 'outgoing_head_done', 'outgoing_head_again', 'outgoing_head_deleted')


def upgrade() -> None:
    with op.batch_alter_table('outgoing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head', sa.SmallInteger(), nullable=True))
    op.create_index(
        'ix_outgoing_heads',
        'outgoing',
        ['priority', 'sender_id', 'id'],
        unique=False,
        sqlite_where=sa.text("status = 'pending' AND head = 1"),
        postgresql_where=sa.text("status = 'pending' AND head = 1"),
    )
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "UPDATE outgoing SET head = 1 WHERE id IN "
            "(SELECT min(id) FROM outgoing WHERE status = 'pending' GROUP BY chat_id)"
        )
        for trigger in HEAD_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for name in TRIGGER_NAMES:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    op.drop_index('ix_outgoing_heads', table_name='outgoing')
    with op.batch_alter_table('outgoing', schema=None) as batch_op:
        batch_op.drop_column('head')
