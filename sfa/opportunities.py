"""Opportunities: create, read, move between stages (by name), the stage-change log.

Reaching a `won` or `lost` stage stamps `closed_at` and publishes
`opportunity.won` / `opportunity.lost`; every move is logged (from, to,
when, by whom), which is what the sales analytics read.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from core.auth import Principal
from core.clock import Clock
from core.errors import Conflict, InvalidInput, NotFound
from core.events import publish
from core.pagination import PageParams, decode_cursor
from sfa.errors import StaleVersion
from sfa.events import OpportunityLost, OpportunityWon
from sfa.models import LIVE, Account, Contact
from sfa.ownership import change_owner
from sfa.pipeline import first_open_stage, stage_named
from sfa.pipeline_models import Opportunity, Stage, StageChange
from sfa.pipeline_schemas import (
    OpportunityCreate,
    OpportunityRead,
    OpportunityUpdate,
    StageChangeRead,
)
from sfa.timeline import add_timeline_entry
from sfa.visibility import check_owner, default_owner, owner_filter


def to_minor(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))


def opportunity_etag(opportunity: Opportunity) -> str:
    return f'"opportunity-{opportunity.id}-v{opportunity.version}"'


def read_model(opportunity: Opportunity, stage: Stage) -> OpportunityRead:
    fields = {
        c: getattr(opportunity, c)
        for c in OpportunityRead.model_fields
        if c not in {"stage", "stage_kind", "probability", "amount"}
    }
    return OpportunityRead(
        **fields,
        stage=stage.name,
        stage_kind=stage.kind,
        probability=stage.probability,
        amount=from_minor(opportunity.amount_minor),
    )


def _check_links(
    session: Session, actor: Principal, contact_id: int | None, account_id: int | None
) -> None:
    """The contact must be live and visible to the caller; the account must exist."""
    visible = select(Contact.id).where(
        Contact.id == contact_id, LIVE, owner_filter(actor, Contact.owner_id)
    )
    if contact_id is not None and session.scalar(visible) is None:
        raise InvalidInput("contact_id", f"no live contact {contact_id}")
    if account_id is not None and session.get(Account, account_id) is None:
        raise InvalidInput("account_id", f"no account {account_id}")


def create_opportunity(
    session: Session, data: OpportunityCreate, *, actor: Principal, clock: Clock
) -> Opportunity:
    """Open a deal in `stage` (the first open stage by default), owned by the caller."""
    owner = default_owner(actor, data.owner_id)
    check_owner(session, actor, owner)
    _check_links(session, actor, data.contact_id, data.account_id)
    stage = stage_named(session, data.stage) if data.stage else first_open_stage(session)
    now = clock.now()
    fields = data.model_dump(exclude={"stage", "amount", "owner_id"})
    opportunity = Opportunity(
        **fields,
        owner_id=owner,
        amount_minor=to_minor(data.amount),
        stage_id=stage.id,
        stage_entered_at=now,
        closed_at=now if stage.kind != "open" else None,
        closed_on=now.date() if stage.kind != "open" else None,
        created_at=now,
        updated_at=now,
    )
    session.add(opportunity)
    session.flush()
    session.add(
        StageChange(
            opportunity_id=opportunity.id,
            from_stage_id=None,
            to_stage_id=stage.id,
            changed_at=now,
            changed_by=actor.user_id,
        )
    )
    _announce(
        session, opportunity, stage, f"Opportunity {opportunity.name!r} opened in {stage.name}"
    )
    return opportunity


def _announce(session: Session, opportunity: Opportunity, stage: Stage, summary: str) -> None:
    if opportunity.contact_id is not None:
        add_timeline_entry(
            session,
            opportunity.contact_id,
            f"opportunity.{stage.kind}",
            summary,
            module="sfa",
            ref=f"opportunity:{opportunity.id}",
            occurred_at=opportunity.updated_at,
        )
    if stage.kind == "won":
        publish(
            session,
            OpportunityWon(
                opportunity_id=opportunity.id,
                contact_id=opportunity.contact_id,
                source_campaign_id=opportunity.source_campaign_id,
                amount_minor=opportunity.amount_minor,
                currency=opportunity.currency,
            ),
        )
    elif stage.kind == "lost":
        publish(
            session,
            OpportunityLost(
                opportunity_id=opportunity.id,
                contact_id=opportunity.contact_id,
                source_campaign_id=opportunity.source_campaign_id,
            ),
        )


def _visible(actor: Principal) -> Select[Opportunity, Stage]:
    return (
        select(Opportunity, Stage)
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(owner_filter(actor, Opportunity.owner_id))
    )


def get_opportunity(
    session: Session, opportunity_id: int, *, actor: Principal
) -> tuple[Opportunity, Stage]:
    row = session.execute(_visible(actor).where(Opportunity.id == opportunity_id)).first()
    if row is None:
        raise NotFound("opportunity", opportunity_id)
    return row[0], row[1]


def update_opportunity(
    session: Session,
    opportunity_id: int,
    data: OpportunityUpdate,
    *,
    actor: Principal,
    clock: Clock,
    if_match: str | None = None,
) -> tuple[Opportunity, Stage]:
    """Change fields; `stage` (a name) moves the deal and logs the move."""
    opportunity, stage = get_opportunity(session, opportunity_id, actor=actor)
    if if_match not in (None, "*") and if_match != opportunity_etag(opportunity):
        raise StaleVersion("opportunity", opportunity_etag(opportunity))
    if opportunity.deleted_at is not None:
        raise Conflict(f"opportunity {opportunity_id} is deleted", field="id")
    sent = data.model_dump(exclude_unset=True)
    now = clock.now()
    if "owner_id" in sent:
        check_owner(session, actor, sent["owner_id"])
    _check_links(session, actor, sent.get("contact_id"), sent.get("account_id"))
    if sent.get("amount") is not None:
        sent["amount_minor"] = to_minor(sent.pop("amount"))
    target = stage_named(session, sent.pop("stage")) if sent.get("stage") else None
    if "owner_id" in sent:
        change_owner(session, opportunity, sent.pop("owner_id"), actor=actor, now=now)
    for name, value in sent.items():
        if name in {"amount", "stage"}:
            continue
        setattr(opportunity, name, value)
    opportunity.updated_at, opportunity.version = now, opportunity.version + 1
    if target is not None and target.id != stage.id:
        _move(session, opportunity, stage, target, actor=actor, now=now)
        stage = target
    return opportunity, stage


def _move(
    session: Session,
    opportunity: Opportunity,
    source: Stage,
    target: Stage,
    *,
    actor: Principal,
    now: datetime,
) -> None:
    opportunity.stage_id, opportunity.stage_entered_at = target.id, now
    opportunity.closed_at = now if target.kind != "open" else None
    opportunity.closed_on = now.date() if target.kind != "open" else None
    session.add(
        StageChange(
            opportunity_id=opportunity.id,
            from_stage_id=source.id,
            to_stage_id=target.id,
            changed_at=now,
            changed_by=actor.user_id,
        )
    )
    _announce(session, opportunity, target, f"{opportunity.name!r}: {source.name} -> {target.name}")


def delete_opportunity(
    session: Session, opportunity_id: int, *, actor: Principal, clock: Clock
) -> Opportunity:
    opportunity, _ = get_opportunity(session, opportunity_id, actor=actor)
    if opportunity.deleted_at is None:
        opportunity.deleted_at = opportunity.updated_at = clock.now()
        opportunity.version += 1
    return opportunity


def list_opportunities(
    session: Session,
    page: PageParams,
    *,
    actor: Principal,
    stage: str | None = None,
    owner_id: int | None = None,
    contact_id: int | None = None,
) -> list[OpportunityRead]:
    query = _visible(actor).where(Opportunity.deleted_at.is_(None))
    if stage is not None:
        query = query.where(Opportunity.stage_id == stage_named(session, stage).id)
    if owner_id is not None:
        query = query.where(Opportunity.owner_id == owner_id)
    if contact_id is not None:
        query = query.where(Opportunity.contact_id == contact_id)
    after = decode_cursor(page.cursor)
    if after is not None:
        query = query.where(Opportunity.id > int(after))
    rows = session.execute(query.order_by(Opportunity.id).limit(page.limit))
    return [read_model(o, s) for o, s in rows]


def stage_history(
    session: Session, opportunity_id: int, *, actor: Principal
) -> list[StageChangeRead]:
    """The stage-change log of one opportunity, oldest first."""
    get_opportunity(session, opportunity_id, actor=actor)
    source, target = aliased(Stage), aliased(Stage)
    query = (
        select(source.name, target.name, StageChange.changed_at, StageChange.changed_by)
        .join(target, target.id == StageChange.to_stage_id)
        .outerjoin(source, source.id == StageChange.from_stage_id)
        .where(StageChange.opportunity_id == opportunity_id)
        .order_by(StageChange.changed_at, StageChange.id)
    )
    return [
        StageChangeRead(from_stage=f, to_stage=t, changed_at=at, changed_by=by)
        for f, t, at, by in session.execute(query)
    ]
