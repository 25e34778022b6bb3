"""Segment rules over configurator sessions: "abandoned an e-bike configuration lately".

Bad inputs tried: an unknown product, a status that does not exist, a status
list with a bad member, an unknown key, a negative `within_days`, a rule that
is not an object, extra keys beside the rule; contacts that must NOT count:
abandoned too long ago, still open, another product, a deleted contact, a
configuration without a contact.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from configurator import service as cfg_service
from configurator.demo import EBIKE
from configurator.lifecycle import mark_abandoned
from configurator.schemas import ConfigurationCreate
from core.auth import SYSTEM
from core.clock import FrozenClock
from sfa import service as sfa_service
from tests.builders import T0
from tests.configurator.service_builders import TINY_XCSP
from tests.conftest import KeyMaker
from tests.ema import builders

ABANDONED_EBIKE = {"configuration": {"product": "ebike", "status": "abandoned", "within_days": 30}}


def _start(session: Session, at: FrozenClock, product: str, contact_id: int | None) -> None:
    data = ConfigurationCreate(product=product, contact_id=contact_id)
    cfg_service.start_configuration(session, data, actor=SYSTEM, clock=at)


def _population(session: Session, clock: FrozenClock) -> dict[str, int]:
    """Contacts by role; configurations abandoned 40 and 10 days ago, one still open."""
    names = ("recent", "old", "open", "other_product", "deleted", "bystander", "both")
    people = dict(zip(names, builders.contacts(session, clock, len(names)), strict=True))
    cfg_service.import_product(
        session, EBIKE.read_text("utf-8"), "native", actor=SYSTEM, clock=clock
    )
    tiny = cfg_service.import_product(session, TINY_XCSP, "xcsp", actor=SYSTEM, clock=clock)
    _start(session, FrozenClock(T0 - timedelta(days=42)), "ebike", people["old"])
    mark_abandoned(session, idle=timedelta(days=1), clock=FrozenClock(T0 - timedelta(days=40)))
    eleven = FrozenClock(T0 - timedelta(days=11))
    for who in ("recent", "deleted", "both"):
        _start(session, eleven, "ebike", people[who])
    _start(session, eleven, "ebike", None)
    _start(session, eleven, tiny.slug, people["other_product"])
    _start(session, FrozenClock(T0 - timedelta(days=50)), "ebike", people["both"])
    mark_abandoned(session, idle=timedelta(hours=12), clock=FrozenClock(T0 - timedelta(days=10)))
    _start(session, FrozenClock(T0 - timedelta(hours=1)), "ebike", people["open"])
    sfa_service.delete_contact(session, people["deleted"], actor=SYSTEM, clock=clock)
    session.commit()
    return people


def _count(client: TestClient, headers: dict[str, str], rules: dict[str, Any], name: str) -> int:
    made = client.post("/api/v1/segments", json={"name": name, "rules": rules}, headers=headers)
    assert made.status_code == 201, made.text
    counted = client.get(f"/api/v1/segments/{made.json()['id']}/count", headers=headers)
    return int(counted.json()["count"])


def test_abandoned_ebike_in_the_last_30_days_counts_exactly_the_right_contacts(
    client: TestClient, session: Session, clock: FrozenClock, auth_headers: KeyMaker
) -> None:
    people = _population(session, clock)
    headers = auth_headers("planner")
    assert _count(client, headers, ABANDONED_EBIKE, "abandoned") == 2  # recent, both
    members = client.get("/api/v1/segments", headers=headers).json()[0]["id"]
    listed = client.get(f"/api/v1/segments/{members}/contacts", headers=headers).json()
    assert sorted(c["id"] for c in listed["items"]) == sorted([people["recent"], people["both"]])
    any_ebike = {"configuration": {"product": "ebike"}}
    assert _count(client, headers, any_ebike, "any ebike") == 4  # recent, old, open, both
    still_open = {"configuration": {"status": ["open", "complete"], "within_days": 1}}
    assert _count(client, headers, still_open, "open") == 1
    not_abandoned = {"all": [{"field": "email", "op": "contains", "value": "@x.io"},
                             {"not": ABANDONED_EBIKE}]}  # fmt: skip
    assert _count(client, headers, not_abandoned, "not abandoned") == 4
    preview = client.post(
        "/api/v1/segments/preview", json={"rules": not_abandoned}, headers=headers
    ).json()
    assert [n["count"] for n in preview["nodes"]] == [4, 6, 4, 2]


def test_bad_configuration_rules_are_422_naming_the_path(
    client: TestClient, session: Session, clock: FrozenClock, auth_headers: KeyMaker
) -> None:
    _population(session, clock)
    headers = auth_headers("planner")
    cases = [
        ({"configuration": {"product": "unicycle"}}, "rules.configuration.product"),
        ({"configuration": {"status": "lost"}}, "rules.configuration.status"),
        ({"configuration": {"status": ["open", "gone"]}}, "rules.configuration.status"),
        ({"configuration": {"colour": "red"}}, "rules.configuration.colour"),
        ({"configuration": {"within_days": -1}}, "rules.configuration.within_days"),
        ({"configuration": "ebike"}, "rules.configuration"),
        ({"configuration": {}, "colour": "red"}, "rules"),
        ({"all": [{"field": "country", "op": "eq", "value": "ES"},
                  {"configuration": {"product": "unicycle"}}]},
         "rules.all[1].configuration.product"),
    ]  # fmt: skip
    for index, (rules, path) in enumerate(cases):
        answer = client.post(
            "/api/v1/segments", json={"name": f"bad {index}", "rules": rules}, headers=headers
        )
        assert answer.status_code == 422, rules
        assert [e["field"] for e in answer.json()["errors"]] == [path], rules
