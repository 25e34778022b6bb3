"""Every error leaves as `application/problem+json` (RFC 9457), naming field and reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    InvalidInputs,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

PROBLEM_JSON = "application/problem+json"

_STATUS: tuple[tuple[type[DomainError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (InvalidInput, 422, "Invalid input"),
    (InvalidInputs, 422, "Invalid input"),
    (PermissionDenied, 403, "Forbidden"),
    (Unauthenticated, 401, "Unauthorized"),
)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: DomainError) -> list[dict[str, str]]:
    if isinstance(exc, InvalidInputs):
        return [{"field": e.field, "reason": e.reason} for e in exc.errors]
    if isinstance(exc, InvalidInput):
        return [{"field": exc.field, "reason": exc.reason}]
    if isinstance(exc, Conflict) and exc.field:
        return [{"field": exc.field, "reason": exc.reason}]
    return []


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, DomainError):
        raise exc
    status, title = next(
        ((s, t) for cls, s, t in _STATUS if isinstance(exc, cls)), (400, "Bad request")
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    extra: dict[str, Any] = dict(exc.details)
    errors = _field_errors(exc)
    if errors:
        extra["errors"] = errors
    return problem(status, title, exc.message, headers=headers, **extra)


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    errors = [{"field": _location(tuple(e["loc"])), "reason": e["msg"]} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return problem(422, "Invalid input", detail, errors=errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):
        raise exc
    return problem(exc.status_code, str(exc.detail), str(exc.detail), headers=exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
