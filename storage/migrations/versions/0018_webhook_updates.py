"""webhook updates seen: one delivered twice is handled once

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-01 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models


revision: str = '0018'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_updates',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('at', storage.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_webhook_updates'))
    )
    op.create_index('ix_webhook_updates_at', 'webhook_updates', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_updates_at', table_name='webhook_updates')
    op.drop_table('webhook_updates')
