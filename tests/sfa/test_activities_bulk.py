"""`create_tasks`: one task per contact in a constant number of statements.

Bad inputs tried: a contact id that does not exist (422 naming `contact_ids`), a
contact a rep may not see (the same), the same contact twice (one task), no contacts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.auth import SYSTEM, Principal, Role, create_user
from core.clock import FrozenClock
from core.errors import InvalidInput
from sfa.activities import create_tasks
from sfa.models import Activity, Contact, TimelineEntry
from tests.builders import T0

_SERIAL = itertools.count()


def _contacts(session: Session, clock: FrozenClock, count: int) -> tuple[list[int], list[int]]:
    """`count` contacts alternating between two owners; returns (contact ids, owner ids)."""
    n = next(_SERIAL)
    owners = [
        create_user(session, name=f"Owner {i}", email=f"owner{n}-{i}@x.io", clock=clock).id
        for i in range(2)
    ]
    rows = [
        Contact(
            first_name=f"C{i}",
            last_name="Bulk",
            owner_id=owners[i % 2],
            created_at=T0,
            updated_at=T0,
        )
        for i in range(count)
    ]
    session.add_all(rows)
    session.flush()
    return [c.id for c in rows], owners


@contextmanager
def _counted(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.connection().engine

    def note(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.mark.parametrize("count", [5, 50])
def test_tasks_cost_the_same_statements_for_5_and_50_contacts(
    session: Session, clock: FrozenClock, count: int
) -> None:
    contact_ids, owners = _contacts(session, clock, count)
    with _counted(session) as statements:
        made = create_tasks(session, contact_ids, "Call back", T0, actor=SYSTEM, clock=clock)
    assert len(statements) == 3  # owners, activities, timeline entries
    assert len(made) == count
    tasks = session.scalars(select(Activity).where(Activity.id.in_(made))).all()
    by_contact = {t.contact_id: t for t in tasks}
    assert set(by_contact) == set(contact_ids)
    for i, cid in enumerate(contact_ids):
        task = by_contact[cid]
        assert (task.kind, task.subject, task.done_at) == ("task", "Call back", None)
        assert task.owner_id == owners[i % 2]
        assert task.due_at == T0
    refs = session.scalars(
        select(TimelineEntry.ref).where(
            TimelineEntry.contact_id.in_(contact_ids), TimelineEntry.kind == "activity.task"
        )
    ).all()
    assert sorted(r or "" for r in refs) == sorted(f"activity:{t.id}" for t in tasks)


def test_the_same_contact_twice_is_one_task_and_none_is_nothing(
    session: Session, clock: FrozenClock
) -> None:
    [cid], _ = _contacts(session, clock, 1)
    assert len(create_tasks(session, [cid, cid], "Once", None, actor=SYSTEM, clock=clock)) == 1
    assert create_tasks(session, [], "Nothing", None, actor=SYSTEM, clock=clock) == []


def test_an_unknown_or_hidden_contact_is_refused(session: Session, clock: FrozenClock) -> None:
    contact_ids, owners = _contacts(session, clock, 2)
    with pytest.raises(InvalidInput) as unknown:
        create_tasks(session, [contact_ids[0], 10**9], "x", None, actor=SYSTEM, clock=clock)
    assert unknown.value.field == "contact_ids"
    rep = Principal(key_id=1, key_name="rep", role=Role.REP, user_id=owners[0])
    with pytest.raises(InvalidInput) as hidden:
        create_tasks(session, contact_ids, "x", None, actor=rep, clock=clock)
    assert hidden.value.field == "contact_ids"
    assert create_tasks(session, [contact_ids[0]], "mine", None, actor=rep, clock=clock)
