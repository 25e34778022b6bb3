"""Committing one send result at a time, cheaply: the worker's hottest statement.

Each accepted message is recorded and committed before the next one leaves
(what makes a worker killed mid-batch resend nothing the provider took), so
this runs once per message. On an engine it goes straight to a DBAPI
connection of its own, with the SQL compiled once and values converted by
the column types' own bind processors (a quarter of the cost of a Core
execute); sessions bound to a connection (tests' savepoints) use the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, func, update
from sqlalchemy.orm import Session

from ema.outbox import OutboxMessage

TABLE = cast(Table, OutboxMessage.__table__)
SETTLE = (
    update(TABLE)
    .where(
        TABLE.c.id == bindparam("oid"),
        TABLE.c.state == "claimed",
        TABLE.c.claimed_by == bindparam("node"),
    )
    .values(
        state=bindparam("state"),
        channel=bindparam("channel"),
        reason=bindparam("reason"),
        sent_at=func.coalesce(bindparam("sent_at", type_=TABLE.c.sent_at.type), TABLE.c.sent_at),
        due_at=func.coalesce(bindparam("due_at", type_=TABLE.c.due_at.type), TABLE.c.due_at),
        attempts=func.coalesce(bindparam("attempts"), TABLE.c.attempts),
        claimed_until=None,
    )
)
DEFAULTS: dict[str, Any] = {"sent_at": None, "due_at": None, "attempts": None}
_COLUMNS = ("state", "channel", "reason", "sent_at", "due_at", "attempts", "oid", "node")
_RAW_SQL = (
    "UPDATE ema_outbox SET state = {p}, channel = {p}, reason = {p}, "
    "sent_at = COALESCE({p}, sent_at), due_at = COALESCE({p}, due_at), "
    "attempts = COALESCE({p}, attempts), claimed_until = NULL "
    "WHERE id = {p} AND state = 'claimed' AND claimed_by = {p}"
)

Settle = Callable[[dict[str, Any]], None]


@contextmanager
def settler(session: Session, node: str) -> Iterator[Settle]:
    """A function that records and commits one result (`oid`, `state`, ...).

    A result only lands on a row this `node` still holds: a claim that expired
    and went to another worker is that worker's to settle.
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine):

        def in_session(params: dict[str, Any]) -> None:
            session.connection().execute(SETTLE, {**DEFAULTS, "node": node, **params})
            session.commit()

        yield in_session
        return
    yield from _raw(bind, node)


def _same(value: Any) -> Any:
    return value


def _raw(engine: Engine, node: str) -> Iterator[Settle]:
    dialect = engine.dialect
    sqlite = dialect.name == "sqlite"
    sql = _RAW_SQL.format(p="?" if sqlite else "%s")
    column_type = TABLE.c.sent_at.type.dialect_impl(dialect)
    stamp: Callable[[Any], Any] = column_type.bind_processor(dialect) or _same
    connection = engine.raw_connection()
    cursor = connection.cursor()
    try:

        def settle(params: dict[str, Any]) -> None:
            values = {**DEFAULTS, "node": node, **params}
            for name in ("sent_at", "due_at"):
                if values[name] is not None:
                    values[name] = stamp(values[name])
            cursor.execute(sql, tuple(values[c] for c in _COLUMNS))
            if not sqlite:  # SQLite runs in autocommit here: one statement, one transaction
                connection.commit()

        yield settle
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()
        connection.close()
