"""The `campana` command: serve, run the scheduler or a worker, migrate, manage keys, demo."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from api import wiring
from api.app import add_gauge, create_app
from api.cli_import import import_app
from api.metrics import GaugeSpec
from api.runtime import Runtime, build_runtime
from core import migrate as migrations
from core.auth import ApiKey, User, create_api_key, create_user, revoke_api_key
from core.db import session_scope
from core.errors import DomainError
from core.scheduler import SchedulerRunner, run_worker
from core.settings import load_settings

app = typer.Typer(
    help="Campana: campaign automation, SFA, call center and product configurator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
user_app = typer.Typer(help="Create and list users (reps, managers, planners, operators).")
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(import_app, name="import")

err = Console(stderr=True)
out = Console()


class CliError(Exception):
    """A failure to report on one line, without a traceback."""


def _runtime() -> Runtime:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    return build_runtime(settings)


def _migrate(runtime: Runtime) -> None:
    migrations.upgrade(runtime.settings.database_url)


@contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    stop = threading.Event()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _load_demo(runtime: Runtime) -> None:
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("loading demo data", total=len(wiring.DEMO_LOADERS))
        for name, loader in wiring.DEMO_LOADERS:
            progress.update(task, description=f"demo: {name}")
            with session_scope(runtime.session_factory) as session:
                summary = loader(session, runtime.clock)
            out.print(summary, highlight=False, soft_wrap=True)
            progress.advance(task)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo data first.")] = False,
) -> None:
    """API + scheduler + dispatch worker in one process (migrates first)."""
    runtime = _runtime()
    _migrate(runtime)
    if demo:
        _load_demo(runtime)
    web = create_app(runtime=runtime)
    scheduler = SchedulerRunner(runtime.job_context(), runtime.engine, wiring.ALL_JOBS)
    add_gauge(
        web,
        GaugeSpec(
            "campana_scheduler_leader",
            "1 while this process leads the scheduler",
            (),
            lambda: [({}, float(scheduler.is_leader))],
        ),
    )
    stop_worker = threading.Event()
    threads = [
        threading.Thread(target=scheduler.run, name="scheduler", daemon=True),
        threading.Thread(
            target=run_worker,
            args=(runtime.job_context(), wiring.drainers(runtime.dispatcher), stop_worker),
            name="worker",
            daemon=True,
        ),
    ]
    for thread in threads:
        thread.start()
    out.print(f"Campana on http://{host}:{port} (docs at /docs)", highlight=False)
    try:
        uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="info")).run()
    finally:
        scheduler.stop()
        stop_worker.set()
        for thread in threads:
            thread.join(timeout=10)


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest version."""
    runtime = _runtime()
    with err.status("migrating"):
        _migrate(runtime)
    out.print(f"database at {_safe_url(runtime.settings.database_url)} is up to date")


@app.command()
def scheduler() -> None:
    """Run scheduled jobs; with several processes on PostgreSQL, one leads at a time."""
    runtime = _runtime()
    _migrate(runtime)
    runner = SchedulerRunner(runtime.job_context(), runtime.engine, wiring.ALL_JOBS)
    with _until_signalled() as stop:
        thread = threading.Thread(target=runner.run, name="scheduler")
        thread.start()
        stop.wait()
        runner.stop()
        thread.join()


@app.command()
def worker() -> None:
    """Drain the dispatch outbox; run as many as you like against PostgreSQL."""
    runtime = _runtime()
    with _until_signalled() as stop:
        run_worker(runtime.job_context(), wiring.drainers(runtime.dispatcher), stop)


@app.command()
def demo() -> None:
    """Load the demo data of every module (a second run changes nothing)."""
    runtime = _runtime()
    _migrate(runtime)
    _load_demo(runtime)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="A unique name for the key.")],
    role: Annotated[
        str, typer.Option(help="admin, planner, manager, rep, operator or integration.")
    ],
    user: Annotated[str | None, typer.Option(help="Email of the user the key acts for.")] = None,
) -> None:
    """Create a key; the clear key is printed once, alone on the last line."""
    runtime = _runtime()
    with session_scope(runtime.session_factory) as session:
        user_id = _user_id(session, user) if user else None
        key, clear = create_api_key(
            session, name=name, role=role, user_id=user_id, clock=runtime.clock
        )
        out.print(
            f"created API key {key.name!r} with role {key.role}; store it now:", highlight=False
        )
    sys.stdout.write(clear + "\n")


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Option(help="The key's name.")]) -> None:
    """Revoke a key: it stops working within the auth cache time (5 s by default)."""
    runtime = _runtime()
    with session_scope(runtime.session_factory) as session:
        revoke_api_key(session, name=name, clock=runtime.clock)
    out.print(f"revoked {name!r}")


@apikey_app.command("list")
def apikey_list() -> None:
    """List keys (never the keys themselves)."""
    runtime = _runtime()
    with session_scope(runtime.session_factory) as session:
        for key in session.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = "revoked" if key.revoked_at else "active"
            sys.stdout.write(f"{key.name}\t{key.role}\t{key.display_prefix}...\t{state}\n")


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Option(help="Full name.")],
    email: Annotated[str, typer.Option(help="Unique email.")],
    manager: Annotated[str | None, typer.Option(help="The manager's email.")] = None,
) -> None:
    """Create a user; prints the new id alone on the last line."""
    runtime = _runtime()
    with session_scope(runtime.session_factory) as session:
        manager_id = _user_id(session, manager) if manager else None
        user = create_user(
            session, name=name, email=email, manager_id=manager_id, clock=runtime.clock
        )
        sys.stdout.write(f"{user.id}\n")


def _user_id(session: Session, email: str) -> int:
    user_id = session.scalar(select(User.id).where(User.email == email.strip().lower()))
    if user_id is None:
        raise CliError(f"no user with email {email!r}")
    return user_id


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed URL>"


def _explain(exc: BaseException) -> str | None:
    """One line for the failures a user can fix; None for real bugs."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        return f"invalid setting CAMPANA_{field.upper()}: {first['msg']}"
    if isinstance(exc, OperationalError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        url = _safe_url(load_settings().database_url)
        return f"cannot reach the database at {url}: {reason}"
    if isinstance(exc, DomainError | CliError):
        return str(exc)
    return None


def main() -> None:
    """Console entry point: user errors end in one line and exit status 2."""
    try:
        app()
    except Exception as exc:
        message = _explain(exc)
        if message is None:
            raise
        err.print(f"campana: error: {message}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
