"""Alembic from code: upgrade a database to the newest schema, or check models against it.

Each package keeps its migrations on its own Alembic branch (labelled with
the package's name) in `migrations/versions/`, so `upgrade` goes to `heads`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema (idempotent)."""
    command.upgrade(alembic_config(url), "heads")


def check(url: str) -> None:
    """Raise if the models hold changes that no migration carries."""
    command.check(alembic_config(url))


def is_current(engine: Engine, url: str) -> bool:
    """True when the database is at every head (no migration pending).

    A branch head that another branch depends on is not recorded in the
    version table, so the test is that every head is applied, not equality.
    """
    script = ScriptDirectory.from_config(alembic_config(url))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    applied = {rev.revision for rev in script.iterate_revisions(current, "base")}
    return set(script.get_heads()) <= applied
