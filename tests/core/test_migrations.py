"""Migrations build the schema from nothing, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import inspect

from api import wiring
from core import migrate
from core.db import Base, make_engine
from tests.conftest import DatabaseServer


def test_fresh_database_is_at_every_head_and_matches_the_models(
    database_server: DatabaseServer,
) -> None:
    url = database_server.fresh()
    engine = make_engine(url)
    try:
        assert migrate.is_current(engine, url)
        migrate.check(url)  # raises when a model change has no migration
        wiring.import_models()
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(database_server: DatabaseServer) -> None:
    url = database_server.fresh()
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        assert migrate.is_current(engine, url)
    finally:
        engine.dispose()
