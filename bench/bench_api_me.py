"""`GET /api/v1/me` against a bare FastAPI endpoint under the same concurrent load.

Both apps run in their own uvicorn process (same options) and take the same
keep-alive load from this process. The figure is Campana's requests per
second; the baseline is the bare app's; the goal is a ratio of at least 0.7
(auth, metrics and error handling cost under 30%).

Run: `.venv/bin/python -m bench.bench_api_me [--seconds 3] [--rounds 3] [--concurrency 32]`
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import ROOT, http_load, note, report


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(target: str, env: dict[str, str], *, factory: bool) -> Iterator[int]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    if factory:
        command.append("--factory")
    proc = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def load(port: int, headers: dict[str, str], args: argparse.Namespace) -> float:
    return http_load(
        port, "/api/v1/me", headers=headers, seconds=args.seconds, concurrency=args.concurrency
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "CAMPANA_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "CAMPANA_DATA_DIR": tmp,
        }
        cli = [sys.executable, "-m", "api.cli"]
        subprocess.run([*cli, "migrate"], env={**os.environ, **env}, cwd=ROOT, check=True)
        created = subprocess.run(
            [*cli, "apikey", "create", "--name", "bench", "--role", "admin"],
            env={**os.environ, **env},
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        key = created.stdout.strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {key}"}
        bare_rates: list[float] = []
        our_rates: list[float] = []
        with (
            server("bench.bare_app:app", {}, factory=False) as bare_port,
            server("api.app:create_app", env, factory=True) as our_port,
        ):
            for port, hdrs in ((bare_port, {}), (our_port, headers)):
                http_load(port, "/api/v1/me", headers=hdrs, seconds=1, concurrency=args.concurrency)
            for _ in range(args.rounds):
                bare_rates.append(load(bare_port, {}, args))
                our_rates.append(load(our_port, headers, args))
    # Rounds alternate so background load hits both alike; the best round of each counts.
    bare, ours = max(bare_rates), max(our_rates)
    note(f"bare FastAPI endpoint: {bare:.0f} req/s; rounds {args.rounds}")
    note(f"{args.concurrency} keep-alive connections")
    report("api_me_throughput", ours, "req/s", bare)


if __name__ == "__main__":
    main()
