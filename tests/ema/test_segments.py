"""Segments: validation names the rule path; every operator compiles to SQL that counts right."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.auth import SYSTEM
from core.clock import FrozenClock
from core.errors import InvalidInput, InvalidInputs
from core.pagination import PageParams
from ema import segment_service
from ema.returns import Return
from ema.schemas import SegmentCreate
from ema.segment_rules import validate_rules
from sfa import opportunities, pipeline
from sfa import service as sfa_service
from sfa.merge import merge_contacts
from sfa.pipeline_schemas import OpportunityCreate
from tests.ema import builders


def _errors(rules: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInputs) as caught:
        validate_rules(rules)
    return [(e.field, e.reason) for e in caught.value.errors]


def test_validation_names_the_rule_path() -> None:
    # bad inputs: unknown field, unknown op deep in a tree, op not for the field type,
    # wrong value types, empty group, group with extra keys, non-object rule, bad event keys
    nested = {
        "all": [
            {"field": "country", "op": "eq", "value": "ES"},
            {"any": [{"field": "country", "op": "like", "value": "x"}]},
        ]
    }
    assert _errors(nested) == [("rules.all[1].any[0].op", "unknown operator 'like'")]
    assert _errors({"field": "shoe_size", "op": "eq", "value": 1})[0][0] == "rules.field"
    assert _errors({"field": "country", "op": "gt", "value": "ES"})[0] == (
        "rules.op",
        "operator 'gt' does not apply to 'country'",
    )
    assert _errors({"field": "owner_id", "op": "in", "value": []})[0][0] == "rules.value"
    assert (
        _errors({"field": "created_at", "op": "gt", "value": "2026-01-01"})[0][0] == "rules.value"
    )
    assert (
        _errors({"field": "created_at", "op": "within_last_days", "value": -1})[0][0]
        == "rules.value"
    )
    assert (
        _errors({"field": "attributes.score", "op": "between", "value": [1]})[0][0] == "rules.value"
    )
    assert _errors({"any": []}) == [("rules.any", "must be a non-empty list of rules")]
    assert _errors({"all": [{"field": "email", "op": "is_null"}], "x": 1})[0][0] == "rules"
    assert _errors({"not": "x"}) == [("rules.not", "a rule must be an object")]
    assert {f for f, _ in _errors({"event": "clicked", "min_count": 0, "colour": 1})} == {
        "rules.event",
        "rules.min_count",
        "rules.colour",
    }
    assert _errors({"in_segment": "a"})[0][0] == "rules.in_segment"


def _count(session: Session, clock: FrozenClock, rules: dict[str, Any], name: str) -> int:
    segment = builders.segment(session, clock, rules, name=name)
    return segment_service.count_segment(session, segment.id, clock=clock)


def test_every_operator_counts_right(session: Session, clock: FrozenClock) -> None:
    es = builders.contacts(
        session,
        clock,
        3,
        tag="es",
        country="ES",
        language="es",
        attributes={"score": 80, "tier": "gold", "vip": True},
    )
    builders.contacts(
        session, clock, 2, tag="fr", country="FR", attributes={"score": 20, "tier": "silver"}
    )
    builders.contact(session, clock, first_name="Nobody", email="zz@y.io")
    cases: list[tuple[dict[str, Any], int]] = [
        ({"field": "country", "op": "eq", "value": "ES"}, 3),
        ({"field": "country", "op": "ne", "value": "ES"}, 3),
        ({"field": "country", "op": "in", "value": ["ES", "FR"]}, 5),
        ({"field": "country", "op": "not_in", "value": ["ES"]}, 3),
        ({"field": "country", "op": "is_null", "value": True}, 1),
        ({"field": "country", "op": "is_null", "value": False}, 5),
        ({"field": "email", "op": "contains", "value": "@y.io"}, 1),
        ({"field": "email", "op": "starts_with", "value": "fr"}, 2),
        ({"field": "email", "op": "contains", "value": "%"}, 0),
        ({"field": "id", "op": "gte", "value": es[1]}, 5),
        ({"field": "id", "op": "between", "value": [es[0], es[2]]}, 3),
        ({"field": "attributes.score", "op": "gt", "value": 50}, 3),
        ({"field": "attributes.score", "op": "lte", "value": 20}, 2),
        ({"field": "attributes.score", "op": "between", "value": [10, 30]}, 2),
        ({"field": "attributes.tier", "op": "eq", "value": "gold"}, 3),
        ({"field": "attributes.tier", "op": "in", "value": ["gold", "silver"]}, 5),
        ({"field": "attributes.vip", "op": "eq", "value": True}, 3),
        ({"field": "attributes.tier", "op": "is_null", "value": True}, 1),
        ({"field": "created_at", "op": "within_last_days", "value": 1}, 6),
        (
            {
                "field": "created_at",
                "op": "gt",
                "value": (clock.now() + timedelta(hours=1)).isoformat(),
            },
            0,
        ),
        ({"not": {"field": "country", "op": "eq", "value": "ES"}}, 3),
        (
            {
                "all": [
                    {"field": "country", "op": "eq", "value": "FR"},
                    {
                        "any": [
                            {"field": "attributes.score", "op": "lt", "value": 30},
                            {"field": "first_name", "op": "eq", "value": "x"},
                        ]
                    },
                ]
            },
            2,
        ),
    ]
    for index, (rules, expected) in enumerate(cases):
        assert _count(session, clock, rules, f"s{index}") == expected, rules


def test_behaviour_rules_over_returns(session: Session, clock: FrozenClock) -> None:
    a, b, c = builders.contacts(session, clock, 3)
    now = clock.now()
    rows = [(a, 3, 1), (a, 3, 2), (b, 3, 40), (c, 4, 1)]
    for contact_id, campaign_id, days_ago in rows:
        session.add(
            Return(
                contact_id=contact_id,
                campaign_id=campaign_id,
                kind="email.clicked",
                occurred_at=now - timedelta(days=days_ago),
                detail={},
            )
        )
    session.add(
        Return(
            contact_id=b,
            campaign_id=3,
            kind="email.clicked",
            occurred_at=now,
            is_machine=True,
            detail={},
        )
    )
    session.flush()
    rule = {"event": "email.clicked", "campaign_id": 3, "within_days": 30, "min_count": 1}
    assert _count(session, clock, rule, "b1") == 1
    assert _count(session, clock, {**rule, "within_days": 60}, "b2") == 2
    assert _count(session, clock, {**rule, "min_count": 2}, "b3") == 1
    assert _count(session, clock, {"event": "email.clicked"}, "b4") == 3
    assert _count(session, clock, {"event": "email.opened"}, "b5") == 0


def test_only_live_contacts_and_static_lists(session: Session, clock: FrozenClock) -> None:
    a, b, c = builders.contacts(session, clock, 3, country="PT")
    sfa_service.delete_contact(session, c, actor=SYSTEM, clock=clock)
    merge_contacts(session, a, b, actor=SYSTEM, clock=clock)
    assert _count(session, clock, {"field": "country", "op": "eq", "value": "PT"}, "live") == 1
    static = segment_service.create_segment(
        session,
        SegmentCreate(name="vip", kind="static", contact_ids=[a]),
        actor=SYSTEM,
        clock=clock,
    )
    assert segment_service.count_segment(session, static.id, clock=clock) == 1
    with pytest.raises(InvalidInputs) as caught:
        segment_service.add_list_members(session, static.id, [a, 999999], actor=SYSTEM, clock=clock)
    assert caught.value.errors[0].field == "contact_ids[1]"
    assert _count(session, clock, {"in_segment": static.id}, "in-list") == 1
    with pytest.raises(InvalidInputs) as refused:
        builders.segment(session, clock, {"all": [{"in_segment": 424242}]}, name="bad")
    assert refused.value.errors[0].field == "rules.all[0].in_segment"
    with pytest.raises(InvalidInput):
        segment_service.create_segment(
            session,
            SegmentCreate(name="x", kind="static", rules={"in_segment": 1}),
            actor=SYSTEM,
            clock=clock,
        )


def test_preview_explains_each_node_and_pages_are_keyset(
    session: Session, clock: FrozenClock
) -> None:
    builders.contacts(session, clock, 4, tag="es", country="ES", language="es")
    builders.contacts(session, clock, 3, tag="fr", country="FR", language="fr")
    rules = {
        "any": [
            {"field": "country", "op": "eq", "value": "ES"},
            {"field": "language", "op": "eq", "value": "fr"},
        ]
    }
    preview = segment_service.preview_rules(session, rules, clock=clock)
    assert [(n.path, n.count) for n in preview.nodes] == [
        ("rules", 7),
        ("rules.any[0]", 4),
        ("rules.any[1]", 3),
    ]
    assert preview.matched == 7
    assert preview.live_contacts >= 7
    segment = builders.segment(session, clock, rules, name="paged")
    seen: list[int] = []
    cursor = None
    while True:
        page = segment_service.segment_contacts(
            session, segment.id, PageParams(limit=3, cursor=cursor), clock=clock
        )
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 7
    assert seen == sorted(seen)


def test_opportunity_stage_rules(session: Session, clock: FrozenClock) -> None:
    # bad inputs: no stage nor kind, unknown kind, unknown key
    stages = [s.name for s in pipeline.list_stages(session)]
    won = next(s.name for s in pipeline.list_stages(session) if s.kind == "won")
    a, b, _ = builders.contacts(session, clock, 3)
    for contact_id, stage in ((a, stages[0]), (b, won)):
        data = OpportunityCreate(
            name="deal", contact_id=contact_id, stage=stage, amount=Decimal(10)
        )
        opportunities.create_opportunity(session, data, actor=SYSTEM, clock=clock)
    assert _count(session, clock, {"opportunity": {"stage": stages[0]}}, "o1") == 1
    assert _count(session, clock, {"opportunity": {"stage": [stages[0], won]}}, "o2") == 2
    assert _count(session, clock, {"opportunity": {"kind": "won", "within_days": 1}}, "o3") == 1
    assert _count(session, clock, {"not": {"opportunity": {"kind": "won"}}}, "o4") >= 2
    assert [f for f, _ in _errors({"opportunity": {}})] == ["rules.opportunity"]
    assert [f for f, _ in _errors({"opportunity": {"kind": "meh", "x": 1}})] == [
        "rules.opportunity.x",
        "rules.opportunity.kind",
    ]


def test_attribute_names_are_plain_words() -> None:
    """Tried: a quote, a JSON path, a space and an empty name after `attributes.`."""
    for name in ('attributes.a"b', "attributes.$.x", "attributes.a b", "attributes."):
        errors = _errors({"field": name, "op": "eq", "value": 1})
        assert errors[0][0] == "rules.field", name


def test_numeric_attribute_rules_skip_text_values(session: Session, clock: FrozenClock) -> None:
    """Bad data tried: a score stored as text, a list, null and a boolean beside numbers."""
    builders.contact(session, clock, email="n1@x.io", attributes={"score": 80})
    builders.contact(session, clock, email="n2@x.io", attributes={"score": 12.5})
    for number, odd in enumerate(("high", [90], None, True)):
        builders.contact(session, clock, email=f"odd{number}@x.io", attributes={"score": odd})
    gt = {"field": "attributes.score", "op": "gt", "value": 10}
    assert _count(session, clock, gt, "numeric") == 2
    between = {"field": "attributes.score", "op": "between", "value": [12, 13]}
    assert _count(session, clock, between, "between") == 1
