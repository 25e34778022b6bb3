"""ema outbox and returns

Revision ID: ema_0001
Revises:
Create Date: 2026-12-04 18:26:30.018847
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import core.db

revision: str = "ema_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("ema",)
depends_on: str | Sequence[str] | None = "sfa_0001"


def upgrade() -> None:
    op.create_table(
        "ema_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=32), nullable=True),
        sa.Column(
            "content",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("due_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["sfa_contacts.id"], name=op.f("fk_ema_outbox_contact_id_sfa_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ema_outbox")),
        sa.UniqueConstraint(
            "campaign_id",
            "step_id",
            "contact_id",
            name=op.f("uq_ema_outbox_campaign_id_step_id_contact_id"),
        ),
    )
    with op.batch_alter_table("ema_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ema_outbox_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ema_outbox_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index("ix_ema_outbox_state_due_at", ["state", "due_at"], unique=False)

    op.create_table(
        "ema_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("variant", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_machine", sa.Boolean(), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["sfa_contacts.id"], name=op.f("fk_ema_returns_contact_id_sfa_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ema_returns")),
    )
    with op.batch_alter_table("ema_returns", schema=None) as batch_op:
        batch_op.create_index("ix_ema_returns_campaign_kind", ["campaign_id", "kind"], unique=False)
        batch_op.create_index(
            "ix_ema_returns_contact_kind_at", ["contact_id", "kind", "occurred_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ema_returns_outbox_id"), ["outbox_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ema_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ema_returns_outbox_id"))
        batch_op.drop_index("ix_ema_returns_contact_kind_at")
        batch_op.drop_index("ix_ema_returns_campaign_kind")

    op.drop_table("ema_returns")
    with op.batch_alter_table("ema_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_ema_outbox_state_due_at")
        batch_op.drop_index(batch_op.f("ix_ema_outbox_contact_id"))
        batch_op.drop_index(batch_op.f("ix_ema_outbox_campaign_id"))

    op.drop_table("ema_outbox")
