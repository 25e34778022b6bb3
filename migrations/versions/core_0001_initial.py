"""core: users, api keys, scheduler nodes

Revision ID: core_0001
Revises:
Create Date: 2026-12-04 18:17:54.980302
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "core_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "core_scheduler_nodes",
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("leading_since", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_core_scheduler_nodes")),
    )
    op.create_table(
        "core_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["core_users.id"], name=op.f("fk_core_users_manager_id_core_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_users")),
        sa.UniqueConstraint("email", name=op.f("uq_core_users_email")),
    )
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_core_users_manager_id"), ["manager_id"], unique=False)

    op.create_table(
        "core_api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("display_prefix", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["core_users.id"], name=op.f("fk_core_api_keys_user_id_core_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_core_api_keys_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_core_api_keys_name")),
    )
    with op.batch_alter_table("core_api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_core_api_keys_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("core_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_api_keys_user_id"))

    op.drop_table("core_api_keys")
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_users_manager_id"))

    op.drop_table("core_users")
    op.drop_table("core_scheduler_nodes")
