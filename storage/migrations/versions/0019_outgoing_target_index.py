"""outgoing target index: /forget_me finds the edits of a member's copies without a scan

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-01 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Partial: most rows act on no earlier row, so relaying pays almost nothing for it.
WHERE = 'target_id IS NOT NULL'


def upgrade() -> None:
    with op.batch_alter_table('outgoing', schema=None) as batch_op:
        batch_op.create_index(
            'ix_outgoing_target', ['target_id'], unique=False,
            sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table('outgoing', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_target', sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
