"""`campana import contacts|opportunities FILE`: stream a CSV in, commit per batch, show progress.

Good rows are kept (committed batch by batch), bad rows are listed by line
number and reason on stderr; the exit status is 1 when any row was refused.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.runtime import build_runtime
from core.auth import SYSTEM, Principal, Role, User
from core.db import session_scope
from core.errors import InvalidInput
from core.settings import load_settings
from sfa import imports

import_app = typer.Typer(help="Bulk-import SFA data from CSV files.", no_args_is_help=True)
err = Console(stderr=True)

FileArg = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")
]
AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Import as this user (visibility and default owner); default admin."),
]


class _Counting(io.RawIOBase):
    """A binary reader that remembers how many bytes went through (for the progress bar)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def _actor(session: Session, email: str | None) -> Principal:
    if email is None:
        return SYSTEM
    user_id = session.scalar(select(User.id).where(User.email == email.strip().lower()))
    if user_id is None:
        raise InvalidInput("--as", f"no user with email {email!r}")
    return Principal(key_id=0, key_name=f"cli:{email}", role=Role.MANAGER, user_id=user_id)


def _run(kind: str, path: Path, as_user: str | None) -> None:
    runtime = build_runtime(load_settings())
    run = imports.import_contacts if kind == "contacts" else imports.import_opportunities
    columns = (
        TextColumn(f"importing {kind}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with (
        path.open("rb") as raw,
        Progress(*columns, console=err) as progress,
        session_scope(runtime.session_factory) as session,
    ):
        counter = _Counting(raw)
        task = progress.add_task(kind, total=path.stat().st_size)
        text = io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig", newline="")

        def on_batch(_report: imports.ImportReport) -> None:
            session.commit()
            progress.update(task, completed=counter.count)

        report = run(
            session, text, actor=_actor(session, as_user), clock=runtime.clock, on_batch=on_batch
        )
    runtime.dispose()
    for bad in report.errors:
        err.print(f"line {bad.line}: {bad.reason}", highlight=False, soft_wrap=True)
    sys.stdout.write(f"{report.imported} imported, {report.rejected} rejected of {report.rows}\n")
    if report.rejected:
        raise typer.Exit(1)


@import_app.command("contacts")
def import_contacts(file: FileArg, as_user: AsOption = None) -> None:
    """Import contacts (email, phone, names, country, owner_email, consent_<channel>...)."""
    _run("contacts", file, as_user)


@import_app.command("opportunities")
def import_opportunities(file: FileArg, as_user: AsOption = None) -> None:
    """Import opportunities (name, owner_email, stage, amount, currency, stage_history...)."""
    _run("opportunities", file, as_user)
