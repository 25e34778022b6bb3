"""Campaign reports, a contact's deliveries (and why not), and the suppression list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.deps import ClockDep, PrincipalDep, SessionDep, require
from channels.models import Suppression
from core.auth import Role
from core.errors import Conflict, NotFound
from ema.reports import campaign_report, contact_deliveries
from ema.tracking import suppress
from sfa import service as sfa_service

router = APIRouter(prefix="/api/v1", tags=["delivery"])
READERS = Depends(require(Role.PLANNER, Role.MANAGER))


class SuppressionIn(BaseModel):
    channel: str = Field(pattern="^(email|sms|phone|post)$")
    address: str = Field(min_length=3, max_length=320)
    reason: str = Field(default="manual", min_length=1, max_length=200)


class SuppressionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    address: str
    reason: str
    created_at: datetime


@router.get(
    "/campaigns/{campaign_id}/report",
    summary="Per step and channel: sent, failed, skipped, opened, clicked, unsubscribed, bounced",
    dependencies=[READERS],
)
def report(campaign_id: int, session: SessionDep) -> dict[str, Any]:
    return {"campaign_id": campaign_id, "rows": campaign_report(session, campaign_id)}


@router.get(
    "/contacts/{contact_id}/deliveries",
    summary="Why a contact did or did not get each step",
    dependencies=[READERS],
)
def deliveries(contact_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    sfa_service.get_contact(session, contact_id, actor=principal)  # 404 unless visible
    return {"contact_id": contact_id, "deliveries": contact_deliveries(session, contact_id)}


@router.get(
    "/suppressions",
    summary="The suppression list",
    dependencies=[Depends(require(Role.PLANNER))],
)
def list_suppressions(
    session: SessionDep,
    channel: str | None = None,
    after: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[SuppressionOut]:
    query = select(Suppression).where(Suppression.id > after).order_by(Suppression.id).limit(limit)
    if channel:
        query = query.where(Suppression.channel == channel)
    return [SuppressionOut.model_validate(s) for s in session.scalars(query)]


@router.post(
    "/suppressions",
    status_code=status.HTTP_201_CREATED,
    summary="Suppress an address on a channel",
    dependencies=[Depends(require(Role.PLANNER))],
)
def add_suppression(body: SuppressionIn, session: SessionDep, clock: ClockDep) -> SuppressionOut:
    row, created = suppress(session, body.channel, body.address, body.reason, clock=clock)
    if not created:
        raise Conflict("this address is already suppressed", field="address")
    return SuppressionOut.model_validate(row)


@router.delete(
    "/suppressions/{suppression_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Lift a suppression",
    dependencies=[Depends(require(Role.PLANNER))],
)
def delete_suppression(suppression_id: int, session: SessionDep) -> None:
    row = session.get(Suppression, suppression_id)
    if row is None:
        raise NotFound("suppression", suppression_id)
    session.delete(row)
