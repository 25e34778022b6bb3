"""Fixtures: a migrated database per run, a savepoint per test, real services.

SQLite always; PostgreSQL when `CAMPANA_TEST_DATABASE_URL` is set, where the
run creates its own databases (named after the run) and drops them at the
end, so concurrent runs never collide. Schemas come from the migrations.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api import wiring
from api.app import create_app
from api.runtime import Runtime
from core import migrate
from core.auth import create_api_key, create_user
from core.clock import CLOCK_KEY, FrozenClock
from core.db import make_engine
from core.events import BUS_KEY, EventBus
from core.settings import Settings
from tests.builders import T0

TEST_DATABASE_ENV = "CAMPANA_TEST_DATABASE_URL"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(TEST_DATABASE_ENV):
        return
    skip = pytest.mark.skip(reason=f"PostgreSQL only: set {TEST_DATABASE_ENV}")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


@dataclass
class DatabaseServer:
    """Makes migrated databases for this run: copies of one migrated template."""

    root: Path
    server_url: str | None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    created: list[str] = field(default_factory=list)
    template: str = ""

    @property
    def is_postgresql(self) -> bool:
        return self.server_url is not None

    def start(self) -> None:
        self.template = self._create("tpl", template=None)
        migrate.upgrade(self.url(self.template))

    def fresh(self) -> str:
        """The URL of a new database at the newest schema."""
        return self.url(self._create(uuid.uuid4().hex[:8], template=self.template))

    def url(self, name: str) -> str:
        if self.server_url is None:
            return f"sqlite:///{self.root / name}"
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def _create(self, suffix: str, template: str | None) -> str:
        name = f"campana_{self.run_id}_{suffix}"
        if self.server_url is None:
            name += ".db"
            if template is not None:
                shutil.copyfile(self.root / template, self.root / name)
        else:
            clause = f" TEMPLATE {template}" if template else ""
            with self._admin() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return name

    @contextmanager
    def _admin(self) -> Iterator[Connection]:
        assert self.server_url is not None
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def drop_all(self) -> None:
        if self.server_url is None:
            return
        with self._admin() as connection:
            for name in reversed(self.created):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseServer]:
    server = DatabaseServer(tmp_path_factory.mktemp("db"), os.environ.get(TEST_DATABASE_ENV))
    server.start()
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def database_url(database_server: DatabaseServer) -> str:
    """The database shared by the tests of this run (isolated by savepoints)."""
    return database_server.fresh()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        file_channel_dir=tmp_path / "outbox",
        secret_key="test-signing-key",
        auth_cache_seconds=0,
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def bus(settings: Settings) -> EventBus:
    return wiring.build_bus(settings)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One outer transaction per test, rolled back at the end."""
    connection = engine.connect()
    transaction = connection.begin()
    yield connection
    transaction.rollback()
    connection.close()


@pytest.fixture
def session_factory(
    connection: Connection, bus: EventBus, clock: FrozenClock
) -> sessionmaker[Session]:
    """Sessions whose commits become savepoints of the test's transaction."""
    return sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={BUS_KEY: bus, CLOCK_KEY: clock},
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def runtime(
    settings: Settings,
    engine: Engine,
    session_factory: sessionmaker[Session],
    bus: EventBus,
    clock: FrozenClock,
) -> Runtime:
    return Runtime(settings, engine, session_factory, bus, clock)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


KeyMaker = Callable[..., dict[str, str]]


@pytest.fixture
def auth_headers(session_factory: sessionmaker[Session], clock: FrozenClock) -> KeyMaker:
    """`auth_headers("rep", user="rui@x")`: headers of a new key (and user) with that role."""

    def make(
        role: str, *, user: str | None = None, manager_id: int | None = None
    ) -> dict[str, str]:
        with session_factory() as session, session.begin():
            user_id = None
            if user is not None:
                person = create_user(
                    session, name=user.split("@")[0], email=user, manager_id=manager_id, clock=clock
                )
                user_id = person.id
            _, clear = create_api_key(
                session,
                name=f"{role}-{uuid.uuid4().hex[:6]}",
                role=role,
                user_id=user_id,
                clock=clock,
            )
        return {"Authorization": f"Bearer {clear}"}

    return make
