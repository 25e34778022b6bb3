"""The `campana` command as a user runs it: a real process, a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DatabaseServer

COMMANDS = ("serve", "migrate", "scheduler", "worker", "apikey", "demo", "user")


def campana(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def env(database_server: DatabaseServer, tmp_path: Path) -> dict[str, str]:
    return {"CAMPANA_DATABASE_URL": database_server.fresh(), "CAMPANA_DATA_DIR": str(tmp_path)}


def test_help_lists_every_command(env: dict[str, str]) -> None:
    result = campana("--help", env=env)
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


def test_apikey_create_prints_the_key_alone_on_the_last_line(env: dict[str, str]) -> None:
    assert campana("migrate", env=env).returncode == 0
    created = campana("apikey", "create", "--name", "ci", "--role", "integration", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("cmp_")
    assert " " not in key
    listed = campana("apikey", "list", env=env)
    assert "ci\tintegration" in listed.stdout
    assert key not in listed.stdout
    again = campana("apikey", "create", "--name", "ci", "--role", "integration", env=env)
    assert again.returncode == 2
    assert again.stderr.strip() == "campana: error: an API key named 'ci' exists"


def test_bad_role_and_unknown_user_are_one_line(env: dict[str, str]) -> None:
    campana("migrate", env=env)
    bad = campana("apikey", "create", "--name", "x", "--role", "root", env=env)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "unknown role 'root'" in bad.stderr
    nobody = campana("apikey", "create", "--name", "x", "--role", "rep", "--user", "a@b.c", env=env)
    assert nobody.stderr.strip() == "campana: error: no user with email 'a@b.c'"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "invalid setting CAMPANA_DATABASE_URL"),
        ("mysql://x@localhost/db", "unsupported database 'mysql'"),
        ("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", "cannot reach the database"),
    ],
)
def test_bad_settings_give_one_clear_line(tmp_path: Path, url: str, expected: str) -> None:
    result = campana(
        "migrate", env={"CAMPANA_DATABASE_URL": url, "CAMPANA_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("campana: error: ")
    assert expected in lines[0]
    assert "secret" not in lines[0]
    assert "Traceback" not in result.stderr


def test_demo_loads_once_and_prints_an_admin_key(env: dict[str, str]) -> None:
    first = campana("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "admin API key cmp_" in first.stdout
    second = campana("demo", env=env)
    assert "already loaded" in second.stdout
