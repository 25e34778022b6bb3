"""`create_app()`: the FastAPI application of one Campana process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.metrics import GaugeSpec, Metrics, MetricsMiddleware
from api.routers import DIRECT_ROUTERS, ROUTERS
from api.runtime import Runtime, build_runtime
from core.settings import Settings, load_settings

DESCRIPTION = """Campaign automation with sales force automation, a call center and a
constraint-based product configurator. Authenticate with `Authorization: Bearer KEY`
(create one with `campana apikey create`). Errors are `application/problem+json`
with the failing `field` and the `reason`."""


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the app; with no arguments, settings come from the environment."""
    owned = runtime is None
    if runtime is None:
        runtime = build_runtime(settings or load_settings())
    built = runtime

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:  # a runtime handed in belongs to the caller
            built.dispose()

    app = FastAPI(
        title="Campana",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    errors.install(app)
    for router in DIRECT_ROUTERS:
        # Probes and /me sit on the app itself: FastAPI matches included routers
        # in a second pass, which costs these hot endpoints ~15% of their time.
        app.router.routes.extend(router.routes)
    for router in ROUTERS:
        app.include_router(router)
    return app


def add_gauge(app: FastAPI, spec: GaugeSpec) -> None:
    """Let a module publish a gauge on `/metrics`."""
    app.state.metrics.add_gauge(spec)
