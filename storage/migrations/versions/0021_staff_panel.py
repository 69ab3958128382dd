"""staff web panel: login links, sessions, indexes for the overview

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-01 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0021'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('panel_logins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', storage.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_panel_logins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_logins'))
    )
    with op.batch_alter_table('panel_logins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_logins_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_logins_user_id'), ['user_id'], unique=False)

    op.create_table('panel_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', storage.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', storage.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_panel_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_panel_sessions_token_hash'))
    )
    with op.batch_alter_table('panel_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_sessions_user_id'), ['user_id'], unique=False)

    # The overview's figures by time: messages per hour, sign-ups, active members, invites per day.
    with op.batch_alter_table('relay_messages', schema=None) as batch_op:
        batch_op.create_index('ix_relay_messages_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_signed_in_at'), ['signed_in_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_last_seen_at'), ['last_seen_at'], unique=False)
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_created_at'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_last_seen_at'))
        batch_op.drop_index(batch_op.f('ix_users_signed_in_at'))
    with op.batch_alter_table('relay_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_relay_messages_created_at')
    with op.batch_alter_table('panel_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_panel_sessions_expires_at'))
    op.drop_table('panel_sessions')
    with op.batch_alter_table('panel_logins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_logins_user_id'))
        batch_op.drop_index(batch_op.f('ix_panel_logins_expires_at'))
    op.drop_table('panel_logins')
