"""each member's time zone and Telegram language

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 09:50:00

Times were shown in UTC to everyone. A member's IANA zone is guessed from the phone number at
sign-in and changed with /timezone; NULL means DEFAULT_TIMEZONE (rows from before this revision).
Telegram's language of each account is kept too, so that what others' actions tell a member (a
ban, an approval) speaks their language even when they never chose one with /lang.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('telegram_language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('telegram_language')
        batch_op.drop_column('timezone')
