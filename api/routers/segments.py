"""Segments: rule trees over contacts and static lists; counts, members and previews."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel

from api.deps import ClockDep, PrincipalDep, SessionDep, require
from core.auth import Role
from core.pagination import Page, PageParams
from ema import segment_service
from ema.schemas import (
    ListChange,
    ListMembers,
    SegmentContact,
    SegmentCount,
    SegmentCreate,
    SegmentPreview,
    SegmentRead,
    SegmentUpdate,
)

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])
READ = [Depends(require(Role.PLANNER, Role.MANAGER))]
"""Managers follow campaigns: segment definitions and counts."""
WRITE = [Depends(require(Role.PLANNER))]
"""Planners build segments and see whom they hold (every contact, by design)."""


class RulesBody(BaseModel):
    rules: dict[str, Any]


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=WRITE, summary="Create a segment"
)
def post_segment(
    body: SegmentCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> SegmentRead:
    segment = segment_service.create_segment(session, body, actor=principal, clock=clock)
    return SegmentRead.model_validate(segment)


@router.get("", dependencies=READ, summary="List segments")
def get_segments(session: SessionDep) -> list[SegmentRead]:
    return [SegmentRead.model_validate(s) for s in segment_service.list_segments(session)]


@router.post("/preview", dependencies=WRITE, summary="Explain an unsaved rule tree's counts")
def post_preview(body: RulesBody, session: SessionDep, clock: ClockDep) -> SegmentPreview:
    return segment_service.preview_rules(session, body.rules, clock=clock)


@router.get("/{segment_id}", dependencies=READ, summary="Read a segment")
def get_segment(segment_id: int, session: SessionDep) -> SegmentRead:
    return SegmentRead.model_validate(segment_service.get_segment(session, segment_id))


@router.patch("/{segment_id}", dependencies=WRITE, summary="Rename a segment or change its rules")
def patch_segment(
    segment_id: int,
    body: SegmentUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> SegmentRead:
    segment = segment_service.update_segment(
        session, segment_id, body, actor=principal, clock=clock
    )
    return SegmentRead.model_validate(segment)


@router.delete(
    "/{segment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=WRITE,
    summary="Delete a segment no campaign uses",
)
def delete_segment(segment_id: int, session: SessionDep, principal: PrincipalDep) -> None:
    segment_service.delete_segment(session, segment_id, actor=principal)


@router.get("/{segment_id}/count", dependencies=READ, summary="Count a segment's live contacts")
def get_count(segment_id: int, session: SessionDep, clock: ClockDep) -> SegmentCount:
    count = segment_service.count_segment(session, segment_id, clock=clock)
    return SegmentCount(segment_id=segment_id, count=count)


@router.get(
    "/{segment_id}/contacts", dependencies=WRITE, summary="List a segment's contacts (keyset)"
)
def get_contacts(
    segment_id: int,
    session: SessionDep,
    clock: ClockDep,
    page: Annotated[PageParams, Query()],
) -> Page[SegmentContact]:
    return segment_service.segment_contacts(session, segment_id, page, clock=clock)


@router.get("/{segment_id}/preview", dependencies=WRITE, summary="Explain each rule's own count")
def get_preview(segment_id: int, session: SessionDep, clock: ClockDep) -> SegmentPreview:
    return segment_service.preview_segment(session, segment_id, clock=clock)


@router.post("/{segment_id}/members", dependencies=WRITE, summary="Add contacts to a static list")
def post_members(
    segment_id: int,
    body: ListMembers,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> ListChange:
    return segment_service.add_list_members(
        session, segment_id, body.contact_ids, actor=principal, clock=clock
    )


@router.post(
    "/{segment_id}/members/remove",
    dependencies=WRITE,
    summary="Remove contacts from a static list",
)
def post_members_remove(
    segment_id: int, body: ListMembers, session: SessionDep, principal: PrincipalDep
) -> ListChange:
    return segment_service.remove_list_members(
        session, segment_id, body.contact_ids, actor=principal
    )
