"""panel: report cards' message ids, every instance's sends and 429s

Revision ID: 0023_panel_cards_live
Revises: 0022
Create Date: 2026-12-01 12:00:00

Report cards were sent without keeping their message ids, so an action in the panel could not edit
them. The panel's live delivery figures counted only the serving process: sends per second now come
from the outgoing rows' send times (every instance's), and 429 answers from rows each instance adds
(when there is no Redis).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0023_panel_cards_live'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Partial: a row waiting to be sent costs the index nothing.
SENT = 'sent_at IS NOT NULL'


def upgrade() -> None:
    op.create_table('report_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', storage.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_cards_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_cards'))
    )
    with op.batch_alter_table('report_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_cards_report_id'), ['report_id'], unique=False)

    op.create_table('rate_limit_hits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counted_at', storage.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('instance', sa.String(length=64), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_limit_hits'))
    )
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_hits_counted_at'), ['counted_at'], unique=False)

    with op.batch_alter_table('outgoing', schema=None) as batch_op:
        batch_op.create_index(
            'ix_outgoing_sent_at', ['sent_at'], unique=False,
            sqlite_where=sa.text(SENT), postgresql_where=sa.text(SENT),
        )


def downgrade() -> None:
    with op.batch_alter_table('outgoing', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_sent_at', sqlite_where=sa.text(SENT), postgresql_where=sa.text(SENT))
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_hits_counted_at'))
    op.drop_table('rate_limit_hits')
    with op.batch_alter_table('report_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_cards_report_id'))
    op.drop_table('report_cards')
