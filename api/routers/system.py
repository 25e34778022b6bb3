"""Process health, readiness, metrics and the caller's identity."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import PrincipalDep, RuntimeDep
from api.errors import problem
from core.auth import Role
from core.db import READ_ONLY

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str


class Me(BaseModel):
    """The key the caller presented: its name, role and user."""

    name: str
    role: Role
    user_id: int | None


@router.get("/healthz", summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The database answers",
    responses={503: {"description": "The database is unreachable"}},
    response_model=Health,
)
def readyz(runtime: RuntimeDep) -> Response | Health:
    try:
        with runtime.engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return problem(503, "Database unreachable", type(exc).__name__)
    return Health(status="ready")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/me", summary="Who am I: the calling key's name and role")
async def me(principal: PrincipalDep) -> Me:
    return Me(name=principal.key_name, role=principal.role, user_id=principal.user_id)
