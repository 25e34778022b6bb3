"""Segment use cases: save validated rule trees and static lists, count, list, explain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import Clock
from core.errors import Conflict, InvalidInput, InvalidInputs, NotFound
from core.pagination import Page, PageParams, decode_cursor, encode_cursor
from ema.audience import audience_condition, insert_ignore
from ema.models import Campaign, Segment, SegmentKind, StaticListMember
from ema.schemas import (
    ListChange,
    PreviewNode,
    SegmentContact,
    SegmentCreate,
    SegmentPreview,
    SegmentUpdate,
)
from ema.segment_rules import EXTERNAL_RULES, validate_rules
from ema.segments import LIVE_CONTACT, RuleContext, count_query, explain_nodes, preview_query
from sfa.models import Contact


def check_rules(session: Session, rules: Any) -> None:
    """Validate the tree, then what it names: static lists, other packages' records."""
    validate_rules(rules)
    nodes = explain_nodes(rules)
    errors = _unknown_lists(session, nodes) + [
        error
        for path, node in nodes
        for key in node
        if key in EXTERNAL_RULES
        for error in EXTERNAL_RULES[key].unknown_refs(session, node[key], f"{path}.{key}")
    ]
    if errors:
        raise InvalidInputs(errors)


def _unknown_lists(session: Session, nodes: list[tuple[str, dict[str, Any]]]) -> list[InvalidInput]:
    """Every `in_segment` must name a static list."""
    refs = [(path, node["in_segment"]) for path, node in nodes if "in_segment" in node]
    if not refs:
        return []
    wanted = {ref for _, ref in refs}
    static = set(
        session.scalars(
            select(Segment.id).where(
                Segment.id.in_(wanted), Segment.kind == SegmentKind.STATIC.value
            )
        )
    )
    return [
        InvalidInput(f"{path}.in_segment", f"no static list {ref}")
        for path, ref in refs
        if ref not in static
    ]


def create_segment(
    session: Session, data: SegmentCreate, *, actor: Principal, clock: Clock
) -> Segment:
    """A rule segment (rules validated) or a static list (with its first members)."""
    if data.kind is SegmentKind.RULES:
        if data.rules is None:
            raise InvalidInput("rules", "a rule segment needs rules")
        if data.contact_ids:
            raise InvalidInput("contact_ids", "only static lists take members")
        check_rules(session, data.rules)
    elif data.rules is not None:
        raise InvalidInput("rules", "a static list takes contact_ids, not rules")
    _check_name_free(session, data.name)
    now = clock.now()
    segment = Segment(
        name=data.name.strip(),
        kind=data.kind.value,
        rules=data.rules,
        created_by=actor.key_name,
        created_at=now,
        updated_at=now,
    )
    session.add(segment)
    session.flush()
    if data.contact_ids:
        add_list_members(session, segment.id, data.contact_ids, actor=actor, clock=clock)
    return segment


def _check_name_free(session: Session, name: str, *, other_than: int | None = None) -> None:
    query = select(Segment.id).where(Segment.name == name.strip())
    found = session.scalar(query)
    if found is not None and found != other_than:
        raise Conflict(f"a segment named {name!r} exists", field="name")


def get_segment(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("segment", segment_id)
    return segment


def list_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.id)))


def update_segment(
    session: Session, segment_id: int, data: SegmentUpdate, *, actor: Principal, clock: Clock
) -> Segment:
    del actor
    segment = get_segment(session, segment_id)
    if data.rules is not None:
        if segment.kind != SegmentKind.RULES.value:
            raise InvalidInput("rules", "a static list has no rules")
        check_rules(session, data.rules)
        segment.rules = data.rules
    if data.name is not None:
        _check_name_free(session, data.name, other_than=segment.id)
        segment.name = data.name.strip()
    segment.updated_at = clock.now()
    return segment


def delete_segment(session: Session, segment_id: int, *, actor: Principal) -> None:
    del actor
    segment = get_segment(session, segment_id)
    used = session.scalar(select(Campaign.id).where(Campaign.segment_id == segment_id).limit(1))
    if used is not None:
        raise Conflict(f"campaign {used} uses this segment", field="segment_id")
    session.delete(segment)


def count_segment(session: Session, segment_id: int, *, clock: Clock) -> int:
    """Live contacts in the segment: one COUNT query."""
    get_segment(session, segment_id)
    condition = audience_condition(session, segment_id, clock.now())
    return int(session.scalar(count_query(condition)) or 0)


def segment_contacts(
    session: Session, segment_id: int, page: PageParams, *, clock: Clock
) -> Page[SegmentContact]:
    """Members in id order, `page.limit` at a time after the cursor (keyset)."""
    get_segment(session, segment_id)
    after = decode_cursor(page.cursor)
    if after is not None and not isinstance(after, int):
        raise InvalidInput("cursor", "malformed pagination cursor")
    query = select(Contact).where(audience_condition(session, segment_id, clock.now()))
    if after is not None:
        query = query.where(Contact.id > after)
    rows = list(session.scalars(query.order_by(Contact.id).limit(page.limit + 1)))
    items = [SegmentContact.model_validate(c) for c in rows[: page.limit]]
    cursor = encode_cursor(items[-1].id) if len(rows) > page.limit else None
    return Page[SegmentContact](items=items, next_cursor=cursor)


def preview_rules(session: Session, rules: dict[str, Any], *, clock: Clock) -> SegmentPreview:
    """Each node's own count, the total and the live population, in one scan."""
    check_rules(session, rules)
    paths, query = preview_query(rules, RuleContext(now=clock.now()))
    row = session.execute(query).one()
    counts = [int(v) for v in row[1:]]
    nodes = [
        PreviewNode(path=path, rule=node, count=count)
        for (path, node), count in zip(explain_nodes(rules), counts, strict=True)
    ]
    del paths
    return SegmentPreview(live_contacts=int(row[0]), matched=counts[0], nodes=nodes)


def preview_segment(session: Session, segment_id: int, *, clock: Clock) -> SegmentPreview:
    segment = get_segment(session, segment_id)
    if segment.rules is None:
        count = count_segment(session, segment_id, clock=clock)
        live = int(session.scalar(count_query(LIVE_CONTACT)) or 0)
        node = PreviewNode(path="rules", rule={"in_segment": segment_id}, count=count)
        return SegmentPreview(live_contacts=live, matched=count, nodes=[node])
    return preview_rules(session, segment.rules, clock=clock)


def _static(session: Session, segment_id: int) -> Segment:
    segment = get_segment(session, segment_id)
    if segment.kind != SegmentKind.STATIC.value:
        raise Conflict("only static lists have members", field="segment_id")
    return segment


def add_list_members(
    session: Session, segment_id: int, contact_ids: list[int], *, actor: Principal, clock: Clock
) -> ListChange:
    """Add live contacts to a static list (already there: unchanged); unknown ids are 422."""
    del actor
    _static(session, segment_id)
    wanted = list(dict.fromkeys(contact_ids))
    live = set(session.scalars(select(Contact.id).where(Contact.id.in_(wanted), LIVE_CONTACT)))
    errors = [
        InvalidInput(f"contact_ids[{i}]", f"no live contact {cid}")
        for i, cid in enumerate(contact_ids)
        if cid not in live
    ]
    if errors:
        raise InvalidInputs(errors)
    now = clock.now()
    rows = [{"segment_id": segment_id, "contact_id": cid, "added_at": now} for cid in wanted]
    before = _member_count(session, segment_id)
    session.execute(insert_ignore(session, StaticListMember.__table__), rows)  # type: ignore[arg-type]
    return ListChange(segment_id=segment_id, changed=_member_count(session, segment_id) - before)


def remove_list_members(
    session: Session, segment_id: int, contact_ids: list[int], *, actor: Principal
) -> ListChange:
    del actor
    _static(session, segment_id)
    result = session.execute(
        delete(StaticListMember).where(
            StaticListMember.segment_id == segment_id,
            StaticListMember.contact_id.in_(contact_ids),
        )
    )
    return ListChange(segment_id=segment_id, changed=int(getattr(result, "rowcount", 0) or 0))


def _member_count(session: Session, segment_id: int) -> int:
    query = select(func.count()).where(StaticListMember.segment_id == segment_id)
    return int(session.scalar(query) or 0)
