"""FastAPI dependencies: the session of a request, the caller, the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.runtime import Runtime
from core.auth import Principal, Role, authenticate
from core.clock import Clock
from core.db import session_scope
from core.errors import Unauthenticated
from core.settings import Settings
from ema.dispatch import Dispatcher


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with session_scope(runtime.session_factory) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_clock(runtime: RuntimeDep) -> Clock:
    return runtime.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_dispatcher(runtime: RuntimeDep) -> Dispatcher:
    return runtime.dispatcher


DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]


def _presented_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = request.headers.get("x-api-key", "").strip()
    if key:
        return key
    raise Unauthenticated("missing API key: send 'Authorization: Bearer KEY' or 'X-API-Key'")


async def get_principal(request: Request) -> Principal:
    """The caller, from a short-lived cache or, on a miss, one indexed query."""
    runtime: Runtime = request.app.state.runtime
    key = _presented_key(request)
    principal = runtime.principals.get(key)
    if principal is None:
        principal = await run_in_threadpool(_authenticate, runtime, key)
        runtime.principals.put(key, principal)
    return principal


def _authenticate(runtime: Runtime, key: str) -> Principal:
    with session_scope(runtime.session_factory) as session:
        return authenticate(session, key)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through `roles` (and admin) only."""

    async def check(principal: PrincipalDep) -> Principal:
        principal.require(*roles)
        return principal

    return check
