"""ema: campaign delivery policy (fallback order, quiet hours, frequency cap)

Revision ID: ema_0003
Revises: ema_0002
Create Date: 2026-12-04 19:25:59.084501
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "ema_0003"
down_revision: str | Sequence[str] | None = "ema_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ema_campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "fallback",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "quiet_hours",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("frequency_cap", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("frequency_window_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ema_campaigns", schema=None) as batch_op:
        batch_op.drop_column("frequency_window_days")
        batch_op.drop_column("frequency_cap")
        batch_op.drop_column("quiet_hours")
        batch_op.drop_column("fallback")
