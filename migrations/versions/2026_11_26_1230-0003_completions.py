"""Course catalogue and completions from e-learning platforms.

Courses and their xAPI activity ids; completions (unique per client and external id, kept
unmatched until HR sends the person); the xAPI mbox_sha1sum of each person's work e-mail (a
staff_members column); Idempotency-Key answers; and the account homePage a client's xAPI
actors use.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:50:00+00:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNMATCHED = sa.text("match_status = 'unmatched'")


def upgrade() -> None:
    op.create_table('courses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('counts_towards', sa.String(length=20), nullable=True),
    sa.Column('pass_required', sa.Boolean(), nullable=False),
    sa.Column('minimum_score', sa.Float(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('minimum_score IS NULL OR (minimum_score >= 0 AND minimum_score <= 1)', name=op.f('ck_courses_minimum_score_scaled')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses')),
    sa.UniqueConstraint('code', name=op.f('uq_courses_code'))
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_updated_at'), ['updated_at'], unique=False)

    op.create_table('course_activities',
    sa.Column('activity_id', sa.String(length=500), nullable=False),
    sa.Column('course_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_activities_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_course_activities'))
    )
    with op.batch_alter_table('course_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_activities_course_id'), ['course_id'], unique=False)

    op.create_table('completions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('course_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employee_number', sa.String(length=30), nullable=True),
    sa.Column('work_email', sa.String(length=254), nullable=True),
    sa.Column('work_email_key', sa.String(length=254), nullable=True),
    sa.Column('email_sha1', sa.String(length=40), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('score_scaled', sa.Float(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('match_status', sa.String(length=12), nullable=False),
    sa.Column('match_reason', sa.String(length=300), nullable=True),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retracted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retraction_reason', sa.String(length=500), nullable=True),
    sa.Column('retracted_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("match_status IN ('matched', 'unmatched')", name=op.f('ck_completions_match_status')),
    sa.CheckConstraint('score_scaled IS NULL OR (score_scaled >= 0 AND score_scaled <= 1)', name=op.f('ck_completions_score_scaled')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_completions_staff_id_staff_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completions')),
    sa.UniqueConstraint('client_id', 'external_id', name=op.f('uq_completions_client_id_external_id'))
    )
    with op.batch_alter_table('completions', schema=None) as batch_op:
        batch_op.create_index('ix_completions_match_status_id', ['match_status', 'id'], unique=False)
        batch_op.create_index('ix_completions_staff_id', ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_completions_updated_at'), ['updated_at'], unique=False)
        for column in ('employee_number', 'work_email_key', 'email_sha1'):
            batch_op.create_index(f'ix_completions_unmatched_{column}', [column], unique=False, postgresql_where=UNMATCHED, sqlite_where=UNMATCHED)

    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_email_sha1', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_staff_members_work_email_sha1'), ['work_email_sha1'], unique=False)
    _fill_work_email_sha1()

    op.create_table('idempotency_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('response_location', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('client_id', 'key', name=op.f('uq_idempotency_records_client_id_key'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('xapi_account_home_page', sa.String(length=500), nullable=True))


def _fill_work_email_sha1() -> None:
    """The xAPI mbox_sha1sum of the staff already stored (SHA-1 is not SQL on SQLite)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, work_email_key FROM staff_members WHERE work_email_key IS NOT NULL")
    ).all()
    values = [
        {"staff_id": staff_id, "sha1": hashlib.sha1(f"mailto:{key}".encode()).hexdigest()}
        for staff_id, key in rows
    ]
    if values:
        connection.execute(
            sa.text("UPDATE staff_members SET work_email_sha1 = :sha1 WHERE id = :staff_id"),
            values,
        )


def downgrade() -> None:
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_column('xapi_account_home_page')

    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))

    op.drop_table('idempotency_records')
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_members_work_email_sha1'))
        batch_op.drop_column('work_email_sha1')

    with op.batch_alter_table('completions', schema=None) as batch_op:
        for column in ('email_sha1', 'work_email_key', 'employee_number'):
            batch_op.drop_index(f'ix_completions_unmatched_{column}')
        batch_op.drop_index(batch_op.f('ix_completions_updated_at'))
        batch_op.drop_index('ix_completions_staff_id')
        batch_op.drop_index('ix_completions_match_status_id')

    op.drop_table('completions')
    with op.batch_alter_table('course_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_activities_course_id'))

    op.drop_table('course_activities')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_updated_at'))

    op.drop_table('courses')
