"""scheduled messages keep their target chat

Revision ID: 0020
Revises: 0014
Create Date: 2026-12-01 09:10:00

A scheduled message went to whatever chat its author was writing to at send time (one scheduled in a
private chat went to the whole common chat): the target is stored with the item. Items already
pending get their author's chat as it is now, which is where the old code would have sent them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('relay_scheduled', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat', sa.String(length=12), server_default='common', nullable=False))
        batch_op.add_column(sa.Column('peer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('room_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_relay_scheduled_peer_id_users'), 'users', ['peer_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_relay_scheduled_room_id_rooms'), 'rooms', ['room_id'], ['id'], ondelete='SET NULL'
        )
    # Pending items: the author's current target (where they would have gone), if it still names a row.
    op.execute(
        """
        UPDATE relay_scheduled SET
            chat = COALESCE((SELECT m.target_kind FROM relay_members m WHERE m.user_id = relay_scheduled.author_id
                             AND m.target_kind IN ('private', 'room')), 'common'),
            peer_id = (SELECT u.id FROM relay_members m JOIN users u ON u.id = m.target_id
                       WHERE m.user_id = relay_scheduled.author_id AND m.target_kind = 'private'),
            room_id = (SELECT r.id FROM relay_members m JOIN rooms r ON r.id = m.target_id
                       WHERE m.user_id = relay_scheduled.author_id AND m.target_kind = 'room')
        WHERE status = 'pending'
        """
    )


def downgrade() -> None:
    with op.batch_alter_table('relay_scheduled', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_relay_scheduled_room_id_rooms'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_relay_scheduled_peer_id_users'), type_='foreignkey')
        batch_op.drop_column('room_id')
        batch_op.drop_column('peer_id')
        batch_op.drop_column('chat')
