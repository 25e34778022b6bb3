"""Database plumbing: `Base`, the engine factory, sessions and a few column types.

SQLite is the embedded default and PostgreSQL the scale-out store; both go
through the same code. On SQLite the engine turns foreign keys on, uses WAL
and a busy timeout, and takes over BEGIN so that SAVEPOINTs work and every
transaction takes the write lock up front (one writer at a time, never a
deadlock between two readers that both want to write). Connections that only
read say so with the `READ_ONLY` execution option and begin a plain
(deferred) transaction instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    MetaData,
    String,
    create_engine,
    event,
    literal,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Campana stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSON column: JSONB on PostgreSQL (indexable), JSON text on SQLite."""


class Base(DeclarativeBase):
    """Declarative base of every table, with stable constraint names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


READ_ONLY = "campana_read_only"
"""Execution option for connections that only read: on SQLite they skip the write lock."""


def is_sqlite(url: str) -> bool:
    """True when `url` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def is_postgresql(session: Session) -> bool:
    """True when `session` talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine for `url`; SQLite gets its pragmas and the BEGIN recipe."""
    if not is_sqlite(url):
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    if database in (None, "", ":memory:"):
        kwargs.setdefault("poolclass", NullPool)
    engine = create_engine(url, json_serializer=_dumps, **kwargs)
    _install_sqlite_recipe(engine)
    return engine


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _install_sqlite_recipe(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling breaks SAVEPOINT).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine, **info: Any) -> sessionmaker[Session]:
    """A session factory whose sessions carry `info` (the event bus, the clock)."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class json_number(FunctionElement[float]):  # noqa: N801 - reads as the SQL function it renders
    """`column[key]` as a number when the JSON value is one, else NULL.

    Comparing a JSON attribute numerically must not fail on rows where the
    attribute holds text: PostgreSQL would raise on the cast, so the value is
    read through a CASE on its JSON type on both databases.
    """

    type = Float()
    inherit_cache = True
    name = "json_number"

    def __init__(self, column: Any, key: str) -> None:
        super().__init__(column, literal(key, String()))


@compiles(json_number, "postgresql")
def _json_number_postgresql(element: json_number, compiler: Any, **kw: Any) -> str:
    column, key = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"CASE WHEN jsonb_typeof(CAST({column} AS JSONB) -> {key}) = 'number' "
        f"THEN CAST(CAST({column} AS JSONB) ->> {key} AS DOUBLE PRECISION) END"
    )


@compiles(json_number, "sqlite")
def _json_number_sqlite(element: json_number, compiler: Any, **kw: Any) -> str:
    column, key = (compiler.process(c, **kw) for c in element.clauses)
    path = f"'$.\"' || {key} || '\"'"
    return (
        f"CASE WHEN json_type({column}, {path}) IN ('integer', 'real') "
        f"THEN json_extract({column}, {path}) END"
    )
