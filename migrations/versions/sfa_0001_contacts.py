"""sfa: accounts, contacts, consents

Revision ID: sfa_0001
Revises:
Create Date: 2026-12-04 18:25:19.128050
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import core.db

revision: str = "sfa_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("sfa",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "sfa_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["core_users.id"], name=op.f("fk_sfa_accounts_owner_id_core_users")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["sfa_accounts.id"], name=op.f("fk_sfa_accounts_parent_id_sfa_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_accounts")),
    )
    with op.batch_alter_table("sfa_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_accounts_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_accounts_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_accounts_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sfa_accounts_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "sfa_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("preferred_channel", sa.String(length=10), nullable=True),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("postal_address", sa.String(length=500), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["sfa_accounts.id"],
            name=op.f("fk_sfa_contacts_account_id_sfa_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["sfa_contacts.id"],
            name=op.f("fk_sfa_contacts_merged_into_id_sfa_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["core_users.id"], name=op.f("fk_sfa_contacts_owner_id_core_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_contacts")),
    )
    with op.batch_alter_table("sfa_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sfa_contacts_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_sfa_contacts_country_language", ["country", "language"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_contacts_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sfa_contacts_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index(
            "uq_sfa_contacts_live_email",
            ["email"],
            unique=True,
            sqlite_where=sa.text("merged_into_id IS NULL AND deleted_at IS NULL"),
            postgresql_where=sa.text("merged_into_id IS NULL AND deleted_at IS NULL"),
        )
        batch_op.create_index(
            "uq_sfa_contacts_live_phone",
            ["phone"],
            unique=True,
            sqlite_where=sa.text("merged_into_id IS NULL AND deleted_at IS NULL"),
            postgresql_where=sa.text("merged_into_id IS NULL AND deleted_at IS NULL"),
        )

    op.create_table(
        "sfa_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["sfa_contacts.id"],
            name=op.f("fk_sfa_consents_contact_id_sfa_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_consents")),
        sa.UniqueConstraint(
            "contact_id", "channel", name=op.f("uq_sfa_consents_contact_id_channel")
        ),
    )


def downgrade() -> None:
    op.drop_table("sfa_consents")
    with op.batch_alter_table("sfa_contacts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sfa_contacts_live_phone",
            sqlite_where=sa.text("merged_into_id IS NULL AND deleted_at IS NULL"),
            postgresql_where=sa.text("merged_into_id IS NULL AND deleted_at IS NULL"),
        )
        batch_op.drop_index(
            "uq_sfa_contacts_live_email",
            sqlite_where=sa.text("merged_into_id IS NULL AND deleted_at IS NULL"),
            postgresql_where=sa.text("merged_into_id IS NULL AND deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_sfa_contacts_updated_at"))
        batch_op.drop_index(batch_op.f("ix_sfa_contacts_owner_id"))
        batch_op.drop_index("ix_sfa_contacts_country_language")
        batch_op.drop_index(batch_op.f("ix_sfa_contacts_account_id"))

    op.drop_table("sfa_contacts")
    with op.batch_alter_table("sfa_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_accounts_updated_at"))
        batch_op.drop_index(batch_op.f("ix_sfa_accounts_parent_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_accounts_owner_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_accounts_name"))

    op.drop_table("sfa_accounts")
