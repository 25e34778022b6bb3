"""sfa: owner change log

Revision ID: sfa_0003
Revises: sfa_0002
Create Date: 2026-12-04 19:49:32.679837
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "sfa_0003"
down_revision: str | Sequence[str] | None = "sfa_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sfa_owner_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("from_owner_id", sa.Integer(), nullable=True),
        sa.Column("to_owner_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["core_users.id"],
            name=op.f("fk_sfa_owner_changes_changed_by_core_users"),
        ),
        sa.ForeignKeyConstraint(
            ["from_owner_id"],
            ["core_users.id"],
            name=op.f("fk_sfa_owner_changes_from_owner_id_core_users"),
        ),
        sa.ForeignKeyConstraint(
            ["to_owner_id"],
            ["core_users.id"],
            name=op.f("fk_sfa_owner_changes_to_owner_id_core_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_owner_changes")),
    )
    with op.batch_alter_table("sfa_owner_changes", schema=None) as batch_op:
        batch_op.create_index("ix_sfa_owner_changes_changed_at", ["changed_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sfa_owner_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_sfa_owner_changes_changed_at")

    op.drop_table("sfa_owner_changes")
