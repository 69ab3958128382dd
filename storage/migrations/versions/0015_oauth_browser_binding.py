"""oauth: flows bound to the browser that started them; verified phones wait for a confirmation

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Flows started before the upgrade have no browser and could never finish: drop them.
    op.execute("DELETE FROM oauth_states")
    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('browser', sa.String(length=64), nullable=True))

    with op.batch_alter_table('oauth_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_phone', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('pending_nonce', sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column('pending_expires_at', storage.models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('oauth_links', schema=None) as batch_op:
        batch_op.drop_column('pending_expires_at')
        batch_op.drop_column('pending_nonce')
        batch_op.drop_column('pending_phone')

    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.drop_column('browser')
