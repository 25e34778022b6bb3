"""Prometheus metrics: request counts and latencies, plus gauges modules add.

The middleware is plain ASGI (no BaseHTTPMiddleware), so it costs a few
microseconds a request. Paths are labelled by route template, never by the
raw URL, to keep the label set small.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GaugeReader = Callable[[], Iterable[tuple[dict[str, str], float]]]


@dataclass(frozen=True)
class GaugeSpec:
    """A gauge read at scrape time: `read()` yields (labels, value) pairs."""

    name: str
    help: str
    labels: tuple[str, ...]
    read: GaugeReader


class _GaugeCollector(Collector):
    def __init__(self, specs: list[GaugeSpec]) -> None:
        self._specs = specs

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for spec in self._specs:
            family = GaugeMetricFamily(spec.name, spec.help, labels=list(spec.labels))
            for labels, value in spec.read():
                family.add_metric([labels[name] for name in spec.labels], value)
            yield family


class Metrics:
    """One registry per app, so several apps in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "campana_http_requests",
            "HTTP requests handled",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "campana_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self._gauges: list[GaugeSpec] = []
        self.registry.register(_GaugeCollector(self._gauges))
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request; label children are cached, `labels()` is the slow part."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def add_gauge(self, spec: GaugeSpec) -> None:
        self._gauges.append(spec)


class MetricsMiddleware:
    """Counts and times every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], template, status, elapsed)
