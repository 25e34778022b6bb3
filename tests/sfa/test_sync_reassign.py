"""Mobile sync tells a phone when a record was reassigned out of its caller's sight.

The sales org: a director over two team leads, each leading a team of one
rep (North: lead1 + rep A, South: lead2 + rep B). The director moves rep A's
contact and deal to rep B: A and lead1 lose sight of them (tombstones with
reason `reassigned`), B gains them, the director and admin see both sides
(no tombstone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.pagination import decode_cursor, encode_cursor
from sfa.models import OwnerChange
from tests.conftest import KeyMaker
from tests.sfa.builders import Person, contact, opportunity, person


@dataclass(frozen=True)
class Sales:
    admin: Person
    director: Person
    lead1: Person
    rep_a: Person
    lead2: Person
    rep_b: Person


def make_sales(client: TestClient, auth_headers: KeyMaker) -> Sales:
    admin = person(client, auth_headers, "admin", user="boss@x.io")
    director = person(client, auth_headers, "manager", user="dir@x.io", manager_id=admin.user_id)
    lead1 = person(client, auth_headers, "manager", user="l1@x.io", manager_id=director.user_id)
    rep_a = person(client, auth_headers, "rep", user="a@x.io", manager_id=lead1.user_id)
    lead2 = person(client, auth_headers, "manager", user="l2@x.io", manager_id=director.user_id)
    rep_b = person(client, auth_headers, "rep", user="b@x.io", manager_id=lead2.user_id)
    for name, lead, rep in (("North", lead1, rep_a), ("South", lead2, rep_b)):
        body = {"name": name, "manager_id": lead.user_id, "member_ids": [rep.user_id]}
        made = client.post("/api/v1/teams", json=body, headers=admin.headers)
        assert made.status_code == 201, made.text
    return Sales(admin, director, lead1, rep_a, lead2, rep_b)


def sync(client: TestClient, who: Person, since: str | None = None) -> dict[str, Any]:
    params = {"since": since} if since is not None else {}
    response = client.get("/api/v1/sync", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def reassign(client: TestClient, who: Person, path: str, owner: Person) -> None:
    response = client.patch(path, json={"owner_id": owner.user_id}, headers=who.headers)
    assert response.status_code == 200, response.text


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def gone(page: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((t["type"], t["id"], t["reason"]) for t in page["deleted"])


def test_reassigned_records_leave_the_old_owners_phone(
    client: TestClient, auth_headers: KeyMaker, clock: FrozenClock
) -> None:
    org = make_sales(client, auth_headers)
    person_a = contact(client, org.rep_a, email="c1@x.io")
    deal = opportunity(client, org.rep_a, contact_id=person_a["id"])
    early = contact(client, org.rep_a, email="c0@x.io")
    reassign(client, org.director, f"/api/v1/contacts/{early['id']}", org.rep_b)
    first = {p: sync(client, getattr(org, p)) for p in ("rep_a", "lead1", "director", "admin")}
    # a first sync has nothing to drop, even though the log already holds a move
    assert all(page["deleted"] == [] for page in first.values())
    assert "reassigned" in decode_cursor(first["rep_a"]["cursor"])
    b_first = sync(client, org.rep_b)
    clock.advance(timedelta(minutes=5))
    reassign(client, org.director, f"/api/v1/contacts/{person_a['id']}", org.rep_b)
    reassign(client, org.director, f"/api/v1/opportunities/{deal['id']}", org.rep_b)

    expected = [
        ("contact", person_a["id"], "reassigned"),
        ("opportunity", deal["id"], "reassigned"),
    ]
    for who in ("rep_a", "lead1"):
        page = sync(client, getattr(org, who), first[who]["cursor"])
        assert gone(page) == expected, who
        assert page["contacts"] == page["opportunities"] == []
        assert {parse(t["deleted_at"]) for t in page["deleted"]} == {clock.now()}
        again = sync(client, getattr(org, who), page["cursor"])
        assert again["deleted"] == [], who  # the cursor covers the owner-change stream
    for who in ("director", "admin"):
        page = sync(client, getattr(org, who), first[who]["cursor"])
        assert page["deleted"] == [], who
        assert [c["id"] for c in page["contacts"]] == [person_a["id"]], who
    b_page = sync(client, org.rep_b, b_first["cursor"])
    assert [(c["id"], c["owner_id"]) for c in b_page["contacts"]] == [
        (person_a["id"], org.rep_b.user_id)
    ]
    assert [o["id"] for o in b_page["opportunities"]] == [deal["id"]]
    assert b_page["deleted"] == []


def test_old_cursor_without_the_owner_change_key_still_works(
    client: TestClient, auth_headers: KeyMaker, clock: FrozenClock
) -> None:
    """An old-format cursor (no `reassigned` key) resumes the owner changes from its oldest
    position; an old cursor with no position at all replays every move."""
    org = make_sales(client, auth_headers)
    mine = contact(client, org.rep_a, email="o1@x.io")
    first = sync(client, org.rep_a)
    old = {k: v for k, v in decode_cursor(first["cursor"]).items() if k != "reassigned"}
    clock.advance(timedelta(minutes=1))
    reassign(client, org.director, f"/api/v1/contacts/{mine['id']}", org.rep_b)
    for cursor in (encode_cursor(old), encode_cursor({})):
        page = sync(client, org.rep_a, cursor)
        assert gone(page) == [("contact", mine["id"], "reassigned")]
        assert "reassigned" in decode_cursor(page["cursor"])


def test_moves_inside_the_callers_sight_and_moves_back_give_no_tombstone(
    client: TestClient, auth_headers: KeyMaker, clock: FrozenClock, session: Session
) -> None:
    """Lead1 moves a contact to and from rep A: lead1 sees both owners (no tombstone);
    a contact given away and back again reaches rep A as a record, not a tombstone."""
    org = make_sales(client, auth_headers)
    lead_owned = contact(client, org.lead1, email="l@x.io")
    mine = contact(client, org.rep_a, email="m@x.io")
    start = {p: sync(client, getattr(org, p)) for p in ("rep_a", "lead1")}
    clock.advance(timedelta(minutes=1))
    reassign(client, org.lead1, f"/api/v1/contacts/{lead_owned['id']}", org.rep_a)
    reassign(client, org.director, f"/api/v1/contacts/{mine['id']}", org.rep_b)
    reassign(client, org.director, f"/api/v1/contacts/{mine['id']}", org.rep_a)
    a_page = sync(client, org.rep_a, start["rep_a"]["cursor"])
    assert a_page["deleted"] == []
    assert sorted(c["id"] for c in a_page["contacts"]) == sorted([lead_owned["id"], mine["id"]])
    lead_page = sync(client, org.lead1, start["lead1"]["cursor"])
    assert lead_page["deleted"] == []
    moves = session.scalars(select(OwnerChange).order_by(OwnerChange.id)).all()
    assert [(m.record_id, m.from_owner_id, m.to_owner_id) for m in moves] == [
        (lead_owned["id"], org.lead1.user_id, org.rep_a.user_id),
        (mine["id"], org.rep_a.user_id, org.rep_b.user_id),
        (mine["id"], org.rep_b.user_id, org.rep_a.user_id),
    ]
    assert {m.changed_by for m in moves} == {org.lead1.user_id, org.director.user_id}


def test_same_owner_patch_and_merge_fill_are_logged_once(
    client: TestClient, auth_headers: KeyMaker, session: Session
) -> None:
    """Sending the current owner again logs nothing; a merge that fills an ownerless survivor
    with the duplicate's owner logs that move."""
    org = make_sales(client, auth_headers)
    mine = contact(client, org.rep_a, email="s@x.io")
    reassign(client, org.rep_a, f"/api/v1/contacts/{mine['id']}", org.rep_a)
    orphan = client.post(
        "/api/v1/contacts", json={"email": "orphan@x.io"}, headers=org.admin.headers
    ).json()
    assert orphan["owner_id"] == org.admin.user_id
    cleared = client.patch(
        f"/api/v1/contacts/{orphan['id']}", json={"owner_id": None}, headers=org.admin.headers
    )
    assert cleared.status_code == 200, cleared.text
    merged = client.post(
        f"/api/v1/contacts/{orphan['id']}/merge",
        json={"duplicate_id": mine["id"]},
        headers=org.admin.headers,
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["owner_id"] == org.rep_a.user_id
    moves = session.scalars(select(OwnerChange).order_by(OwnerChange.id)).all()
    assert [(m.record_id, m.from_owner_id, m.to_owner_id) for m in moves] == [
        (orphan["id"], org.admin.user_id, None),
        (orphan["id"], None, org.rep_a.user_id),
    ]


def test_bad_cursors_are_rejected(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad inputs: a `reassigned` position that is not a pair, one with a bad date,
    one with a naive date, an unknown key next to it, a cursor that is not base64 JSON."""
    org = make_sales(client, auth_headers)
    bad = [
        encode_cursor({"reassigned": 5}),
        encode_cursor({"reassigned": ["yesterday", 1]}),
        encode_cursor({"reassigned": ["2026-01-05T09:00:00", 1]}),
        encode_cursor({"reassigned": ["2026-01-05T09:00:00+00:00", 1], "leads": ["x", 1]}),
        "%%%",
    ]
    for cursor in bad:
        response = client.get("/api/v1/sync", params={"since": cursor}, headers=org.rep_a.headers)
        assert response.status_code == 422, cursor


def test_reassigned_tombstones_page_with_the_limit(
    client: TestClient, auth_headers: KeyMaker, clock: FrozenClock
) -> None:
    org = make_sales(client, auth_headers)
    ids = [contact(client, org.rep_a, email=f"p{n}@x.io")["id"] for n in range(3)]
    cursor = sync(client, org.rep_a)["cursor"]
    clock.advance(timedelta(minutes=1))
    for ident in ids:
        reassign(client, org.director, f"/api/v1/contacts/{ident}", org.rep_b)
    seen: list[int] = []
    for _ in range(10):
        response = client.get(
            "/api/v1/sync", params={"since": cursor, "limit": 1}, headers=org.rep_a.headers
        )
        page = response.json()
        seen += [t["id"] for t in page["deleted"] if t["reason"] == "reassigned"]
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert seen == ids
