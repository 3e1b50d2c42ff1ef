"""Improvement projects, team members and reviews.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 12:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('improvement_projects',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('organisation_ods_code', sa.String(length=10), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('aim', sa.Text(), nullable=True),
    sa.Column('measures', DOCUMENT, nullable=False),
    sa.Column('changes', DOCUMENT, nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('learning', sa.Text(), nullable=True),
    sa.Column('sustainability_and_spread', sa.Text(), nullable=True),
    sa.Column('links', DOCUMENT, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_client_id', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('improved', 'noChange', 'worse', 'inconclusive')", name=op.f('ck_improvement_projects_outcome_known')),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'approved', 'returned', 'withdrawn')", name=op.f('ck_improvement_projects_status_known')),
    sa.ForeignKeyConstraint(['organisation_ods_code'], ['organisations.ods_code'], name=op.f('fk_improvement_projects_organisation_ods_code_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_projects'))
    )
    with op.batch_alter_table('improvement_projects', schema=None) as batch_op:
        batch_op.create_index('ix_improvement_projects_organisation_ods_code_id', ['organisation_ods_code', 'id'], unique=False)
        batch_op.create_index('ix_improvement_projects_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_improvement_projects_updated_at'), ['updated_at'], unique=False)

    op.create_table('project_team_members',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('project_id', ID, nullable=False),
    sa.Column('staff_id', ID, nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.CheckConstraint("role IN ('lead', 'member', 'sponsor', 'mentor')", name=op.f('ck_project_team_members_role_known')),
    sa.ForeignKeyConstraint(['project_id'], ['improvement_projects.id'], name=op.f('fk_project_team_members_project_id_improvement_projects')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_project_team_members_staff_id_staff_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_team_members')),
    sa.UniqueConstraint('project_id', 'staff_id', name=op.f('uq_project_team_members_project_id_staff_id'))
    )
    with op.batch_alter_table('project_team_members', schema=None) as batch_op:
        # Awards: "approved projects where person X is mentor" starts from the person and role.
        batch_op.create_index('ix_project_team_members_staff_id_role', ['staff_id', 'role', 'project_id'], unique=False)
        # At most one lead per project, whatever writes the rows.
        batch_op.create_index('uq_project_team_members_one_lead', ['project_id'], unique=True, postgresql_where=sa.text("role = 'lead'"), sqlite_where=sa.text("role = 'lead'"))

    op.create_table('project_reviews',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('project_id', ID, nullable=False),
    sa.Column('reviewer_staff_id', ID, nullable=False),
    sa.Column('reviewer_client_id', sa.String(length=64), nullable=False),
    sa.Column('score_principles', sa.Integer(), nullable=False),
    sa.Column('score_aim', sa.Integer(), nullable=False),
    sa.Column('score_measures', sa.Integer(), nullable=False),
    sa.Column('score_changes', sa.Integer(), nullable=False),
    sa.Column('score_sustainability_and_spread', sa.Integer(), nullable=False),
    sa.Column('score_reflection', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('pass_mark', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('comments', sa.Text(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('approved', 'returned')", name=op.f('ck_project_reviews_decision_known')),
    sa.CheckConstraint('score_principles BETWEEN 0 AND 5 AND score_aim BETWEEN 0 AND 10 AND score_measures BETWEEN 0 AND 10 AND score_changes BETWEEN 0 AND 10 AND score_sustainability_and_spread BETWEEN 0 AND 10 AND score_reflection BETWEEN 0 AND 5', name=op.f('ck_project_reviews_scores_in_range')),
    sa.ForeignKeyConstraint(['project_id'], ['improvement_projects.id'], name=op.f('fk_project_reviews_project_id_improvement_projects')),
    sa.ForeignKeyConstraint(['reviewer_staff_id'], ['staff_members.id'], name=op.f('fk_project_reviews_reviewer_staff_id_staff_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_reviews'))
    )
    with op.batch_alter_table('project_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_project_reviews_project_id_id', ['project_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('project_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_project_reviews_project_id_id')

    op.drop_table('project_reviews')
    with op.batch_alter_table('project_team_members', schema=None) as batch_op:
        batch_op.drop_index('uq_project_team_members_one_lead', postgresql_where=sa.text("role = 'lead'"), sqlite_where=sa.text("role = 'lead'"))
        batch_op.drop_index('ix_project_team_members_staff_id_role')

    op.drop_table('project_team_members')
    with op.batch_alter_table('improvement_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_improvement_projects_updated_at'))
        batch_op.drop_index('ix_improvement_projects_status_id')
        batch_op.drop_index('ix_improvement_projects_organisation_ods_code_id')

    op.drop_table('improvement_projects')
