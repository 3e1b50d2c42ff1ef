"""Staff records from HR: staff groups (seeded), staff members and their dated history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:20:14.340431+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The ten ESR staff groups (NHS Data Dictionary), as in app/reference/esr-staff-groups.csv.
ESR_STAFF_GROUPS = [
    ("01", "Medical and Dental"),
    ("02", "Students"),
    ("03", "Nursing and Midwifery Registered"),
    ("04", "Allied Health Professionals"),
    ("05", "Additional Professional Scientific and Technical"),
    ("06", "Healthcare Scientists"),
    ("07", "Additional Clinical Services"),
    ("08", "Administrative and Clerical"),
    ("09", "Estates and Ancillary"),
    ("10", "Supplementary Roles"),
]

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staff_groups',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_staff_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_staff_groups_name'))
    )
    op.bulk_insert(
        sa.table("staff_groups", sa.column("code", sa.String), sa.column("name", sa.String)),
        [{"code": code, "name": name} for code, name in ESR_STAFF_GROUPS],
    )
    op.create_table('staff_members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('employee_number', sa.String(length=30), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('work_email', sa.String(length=254), nullable=True),
    sa.Column('work_email_key', sa.String(length=254), nullable=True),
    sa.Column('organisation_ods_code', sa.String(length=10), nullable=False),
    sa.Column('staff_group_code', sa.String(length=2), nullable=False),
    sa.Column('job_title', sa.String(length=200), nullable=True),
    sa.Column('board_member', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_staff_members_end_after_start')),
    sa.ForeignKeyConstraint(['organisation_ods_code'], ['organisations.ods_code'], name=op.f('fk_staff_members_organisation_ods_code_organisations')),
    sa.ForeignKeyConstraint(['staff_group_code'], ['staff_groups.code'], name=op.f('fk_staff_members_staff_group_code_staff_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_members')),
    sa.UniqueConstraint('employee_number', name=op.f('uq_staff_members_employee_number'))
    )
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.create_index('ix_staff_members_organisation_ods_code_id', ['organisation_ods_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_members_updated_at'), ['updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_members_work_email_key'), ['work_email_key'], unique=False)

    op.create_table('staff_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('organisation_ods_code', sa.String(length=10), nullable=False),
    sa.Column('staff_group_code', sa.String(length=2), nullable=False),
    sa.Column('board_member', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_staff_history_staff_id_staff_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_history'))
    )
    with op.batch_alter_table('staff_history', schema=None) as batch_op:
        batch_op.create_index('ix_staff_history_staff_id_valid_from', ['staff_id', 'valid_from'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('staff_history', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_history_staff_id_valid_from')

    op.drop_table('staff_history')
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_members_work_email_key'))
        batch_op.drop_index(batch_op.f('ix_staff_members_updated_at'))
        batch_op.drop_index('ix_staff_members_organisation_ods_code_id')

    op.drop_table('staff_members')
    op.drop_table('staff_groups')
