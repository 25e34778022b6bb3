"""HTTP helpers shared by the SFA routers: ETags, preconditions, page parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import require
from api.errors import problem
from core.auth import Principal, Role
from core.pagination import MAX_LIMIT, PageParams
from sfa.errors import StaleVersion

T = TypeVar("T")

Reader = Annotated[Principal, Depends(require(Role.REP, Role.MANAGER, Role.PLANNER))]
Writer = Annotated[Principal, Depends(require(Role.REP, Role.MANAGER))]
Seller = Annotated[Principal, Depends(require(Role.REP, Role.MANAGER))]


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50, cursor: str | None = None
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


def not_modified(if_none_match: str | None, etag: str) -> Response | None:
    """A 304 when the client already holds `etag`."""
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": etag})
    return None


def with_etag(body: BaseModel, etag: str, status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status_code, headers={"ETag": etag}
    )


def guarded(call: Callable[[], T]) -> T | JSONResponse:
    """Run an update guarded by If-Match; a stale ETag answers 412 Precondition Failed."""
    try:
        return call()
    except StaleVersion as exc:
        return problem(412, "Precondition failed", exc.message, headers={"ETag": exc.current})


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
