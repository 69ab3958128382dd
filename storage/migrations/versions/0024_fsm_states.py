"""aiogram's FSM state in the database when there is no Redis

Revision ID: 0024_fsm_states
Revises: 0023_panel_cards_live
Create Date: 2026-12-01 12:20:00

Without Redis the FSM state lived in the process's memory: a restart between two steps (a room link
opened before sign-in, then the contact) forgot the first. One row per chat and user, removed when
it holds nothing (bot/fsm_storage.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024_fsm_states'
down_revision: str | None = '0023_panel_cards_live'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'fsm_states',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('state', sa.String(length=255), nullable=True),
        sa.Column('data', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_fsm_states')),
    )


def downgrade() -> None:
    op.drop_table('fsm_states')
