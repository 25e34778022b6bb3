"""What every benchmark shares: timing, percentiles, peak memory and the report line.

Each benchmark measures its figure and a baseline in the same run and ends
with `report()`, whose line reads `name: figure unit (ratio X vs baseline)`.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def report(name: str, figure: float, unit: str, baseline: float) -> float:
    """Print the benchmark's line and return the ratio figure / baseline."""
    ratio = figure / baseline if baseline else float("inf")
    sys.stdout.write(f"{name}: {figure:.4g} {unit} (ratio {ratio:.2f} vs baseline)\n")
    sys.stdout.flush()
    return ratio


def note(text: str) -> None:
    """A line of context above the report line."""
    sys.stdout.write(f"  {text}\n")
    sys.stdout.flush()


def timed(func: Callable[[], object]) -> float:
    """Seconds `func()` took."""
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _client(host: str, port: int, request: bytes, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected response: {head[:60]!r}")
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
        counts.append(done)


def http_load(
    port: int,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    concurrency: int = 32,
    seconds: float = 5.0,
    host: str = "127.0.0.1",
) -> float:
    """Requests per second that `concurrency` keep-alive connections get from a GET."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def run() -> float:
        counts: list[int] = []
        started = time.perf_counter()
        stop_at = started + seconds
        await asyncio.gather(
            *(_client(host, port, request, stop_at, counts) for _ in range(concurrency))
        )
        return sum(counts) / (time.perf_counter() - started)

    return asyncio.run(run())
