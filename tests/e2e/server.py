"""A real `campana serve` process on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def campana_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "CAMPANA_DATABASE_URL": database_url, "CAMPANA_DATA_DIR": str(data_dir)}


def campana_cli(*args: str, env: dict[str, str], timeout: float = 180) -> str:
    """Run `campana ARGS` and return its stdout (raises on a non-zero exit)."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return done.stdout


@contextmanager
def running_server(env: dict[str, str], *, role: str = "admin") -> Iterator[tuple[str, str]]:
    """Migrate, create a key with `role`, serve; yields (base URL, key) until the block ends."""
    campana_cli("migrate", env=env)
    key = campana_cli("apikey", "create", "--name", f"e2e-{role}", "--role", role, env=env)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base)
        yield base, key.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_ready(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"campana serve at {base} did not become ready")
