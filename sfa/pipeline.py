"""Pipeline stages: configurable name, order, default probability and kind open/won/lost."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import Conflict, InvalidInput, NotFound
from sfa.pipeline_models import Opportunity, Stage, StageChange
from sfa.pipeline_schemas import StageCreate, StageUpdate


def list_stages(session: Session) -> list[Stage]:
    return list(session.scalars(select(Stage).order_by(Stage.position, Stage.id)))


def stages_by_name(session: Session) -> dict[str, Stage]:
    """Stages keyed by lowercased name (names are matched case-insensitively)."""
    return {s.name.lower(): s for s in list_stages(session)}


def stage_named(session: Session, name: str, field: str = "stage") -> Stage:
    stage = stages_by_name(session).get(name.strip().lower())
    if stage is None:
        known = ", ".join(s.name for s in list_stages(session))
        raise InvalidInput(field, f"unknown stage {name!r}; one of {known}")
    return stage


def first_open_stage(session: Session) -> Stage:
    stage = session.scalar(
        select(Stage).where(Stage.kind == "open").order_by(Stage.position).limit(1)
    )
    if stage is None:
        raise InvalidInput("stage", "the pipeline has no open stage")
    return stage


def _unique_name(session: Session, name: str, exclude: int | None) -> None:
    existing = stages_by_name(session).get(name.lower())
    if existing is not None and existing.id != exclude:
        raise Conflict(f"a stage named {existing.name!r} exists", field="name")


def create_stage(session: Session, data: StageCreate, *, actor: Principal) -> Stage:
    actor.require(Role.MANAGER)
    _unique_name(session, data.name, None)
    stage = Stage(**data.model_dump())
    session.add(stage)
    session.flush()
    return stage


def update_stage(session: Session, stage_id: int, data: StageUpdate, *, actor: Principal) -> Stage:
    """Rename, reorder or re-weight a stage; its kind is fixed once deals use it."""
    actor.require(Role.MANAGER)
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise NotFound("stage", stage_id)
    sent = data.model_dump(exclude_unset=True)
    if sent.get("name"):
        _unique_name(session, sent["name"], stage.id)
    for name, value in sent.items():
        if value is not None:
            setattr(stage, name, value)
    return stage


def delete_stage(session: Session, stage_id: int, *, actor: Principal) -> None:
    actor.require(Role.MANAGER)
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise NotFound("stage", stage_id)
    used = session.scalar(select(Opportunity.id).where(Opportunity.stage_id == stage_id).limit(1))
    logged = session.scalar(
        select(StageChange.id).where(StageChange.to_stage_id == stage_id).limit(1)
    )
    if used is not None or logged is not None:
        raise Conflict(f"stage {stage.name!r} is used by opportunities", field="id")
    session.delete(stage)


def session_stage(session: Session, stage_id: int) -> Stage:
    stage = session.get(Stage, stage_id)
    if stage is None:
        raise NotFound("stage", stage_id)
    return stage
