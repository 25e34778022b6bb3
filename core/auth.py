"""Who is calling: users, API keys with a role, and the checks on them (no HTTP here).

Keys are random 256-bit tokens, so a plain SHA-256 is the right hash: there
is nothing to brute-force and a lookup by hash stays one indexed query. The
clear key is shown once, at creation, and never stored.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import Clock
from core.db import Base
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated

KEY_PREFIX = "cmp_"


class Role(StrEnum):
    """What a key may do; `api/` maps endpoints to the roles allowed."""

    ADMIN = "admin"
    PLANNER = "planner"
    MANAGER = "manager"
    REP = "rep"
    OPERATOR = "operator"
    INTEGRATION = "integration"


class User(Base):
    """A person who works in Campana: a rep, a manager, a planner, an operator."""

    __tablename__ = "core_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class ApiKey(Base):
    """A hashed API key; `user_id` ties it to a person (integrations have none)."""

    __tablename__ = "core_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), index=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller as services see it."""

    key_id: int
    key_name: str
    role: Role
    user_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require(self, *roles: Role) -> None:
        """Raise PermissionDenied unless the caller has one of `roles` (admin always may)."""
        if self.role not in roles and not self.is_admin:
            allowed = ", ".join(r.value for r in roles)
            raise PermissionDenied(f"role {self.role.value!r} may not do this (needs {allowed})")


SYSTEM = Principal(key_id=0, key_name="system", role=Role.ADMIN)
"""The principal of scheduled jobs and CLI commands."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput("role", f"unknown role {value!r}; one of {allowed}") from None


def create_user(
    session: Session, *, name: str, email: str, clock: Clock, manager_id: int | None = None
) -> User:
    """Add a user; the email is unique, case-insensitively."""
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email!r} exists", field="email")
    if manager_id is not None and session.get(User, manager_id) is None:
        raise InvalidInput("manager_id", f"no user {manager_id}")
    user = User(name=name, email=email, manager_id=manager_id, created_at=clock.now())
    session.add(user)
    session.flush()
    return user


def create_api_key(
    session: Session, *, name: str, role: str, clock: Clock, user_id: int | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the clear key, which is never stored."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", "must not be empty")
    parsed = parse_role(role)
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"an API key named {name!r} exists", field="name")
    if user_id is not None and session.get(User, user_id) is None:
        raise InvalidInput("user_id", f"no user {user_id}")
    clear = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        role=parsed.value,
        key_hash=hash_key(clear),
        display_prefix=clear[:12],
        user_id=user_id,
        created_at=clock.now(),
    )
    session.add(key)
    session.flush()
    return key, clear


def revoke_api_key(session: Session, *, name: str, clock: Clock) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise NotFound("api key", name)
    if key.revoked_at is None:
        key.revoked_at = clock.now()
    return key


def authenticate(session: Session, clear_key: str) -> Principal:
    """The principal of `clear_key`; unknown or revoked keys are Unauthenticated."""
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(clear_key)))
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("unknown or revoked API key")
    return Principal(key_id=key.id, key_name=key.name, role=Role(key.role), user_id=key.user_id)


class PrincipalCache:
    """Remembers authenticated keys for `ttl` seconds to spare a query per request.

    A revocation made in this process evicts at once (`clear`); other
    processes see it within `ttl` seconds.
    """

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, clear_key: str) -> Principal | None:
        if self._ttl <= 0:
            return None
        entry = self._entries.get(hash_key(clear_key))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, clear_key: str, principal: Principal) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[hash_key(clear_key)] = (time.monotonic() + self._ttl, principal)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
