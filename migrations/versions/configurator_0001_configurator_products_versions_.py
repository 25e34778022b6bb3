"""configurator: products, versions, configurations, orders

Revision ID: configurator_0001
Revises:
Create Date: 2026-12-04 18:54:07.921642
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import core.db

revision: str = "configurator_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("configurator",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "cfg_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cfg_products")),
        sa.UniqueConstraint("slug", name=op.f("uq_cfg_products_slug")),
    )
    op.create_table(
        "cfg_product_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("variable_count", sa.Integer(), nullable=False),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["cfg_products.id"],
            name=op.f("fk_cfg_product_versions_product_id_cfg_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cfg_product_versions")),
        sa.UniqueConstraint(
            "product_id", "version", name=op.f("uq_cfg_product_versions_product_id_version")
        ),
    )
    with op.batch_alter_table("cfg_product_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cfg_product_versions_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "cfg_configurations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column(
            "needs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "choices",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "domains",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("proposed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("price_min", sa.Double(), nullable=True),
        sa.Column("price_max", sa.Double(), nullable=True),
        sa.Column(
            "price_witness",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("abandoned_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["cfg_products.id"],
            name=op.f("fk_cfg_configurations_product_id_cfg_products"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["cfg_product_versions.id"],
            name=op.f("fk_cfg_configurations_version_id_cfg_product_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cfg_configurations")),
    )
    with op.batch_alter_table("cfg_configurations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cfg_configurations_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cfg_configurations_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            "ix_cfg_configurations_status_activity", ["status", "last_activity_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cfg_configurations_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "cfg_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("configuration_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column(
            "product_values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "bom_lines",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("cost", sa.Double(), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["cfg_configurations.id"],
            name=op.f("fk_cfg_orders_configuration_id_cfg_configurations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["cfg_products.id"], name=op.f("fk_cfg_orders_product_id_cfg_products")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["cfg_product_versions.id"],
            name=op.f("fk_cfg_orders_version_id_cfg_product_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cfg_orders")),
        sa.UniqueConstraint("configuration_id", name=op.f("uq_cfg_orders_configuration_id")),
    )
    with op.batch_alter_table("cfg_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cfg_orders_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cfg_orders_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cfg_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cfg_orders_product_id"))
        batch_op.drop_index(batch_op.f("ix_cfg_orders_contact_id"))

    op.drop_table("cfg_orders")
    with op.batch_alter_table("cfg_configurations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cfg_configurations_version_id"))
        batch_op.drop_index("ix_cfg_configurations_status_activity")
        batch_op.drop_index(batch_op.f("ix_cfg_configurations_product_id"))
        batch_op.drop_index(batch_op.f("ix_cfg_configurations_contact_id"))

    op.drop_table("cfg_configurations")
    with op.batch_alter_table("cfg_product_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cfg_product_versions_product_id"))

    op.drop_table("cfg_product_versions")
    op.drop_table("cfg_products")
