"""API keys: hashed at rest, roles checked, revocation honoured."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import (
    ApiKey,
    PrincipalCache,
    Role,
    authenticate,
    create_api_key,
    create_user,
    hash_key,
    revoke_api_key,
)
from core.clock import FrozenClock
from core.errors import Conflict, InvalidInput, PermissionDenied, Unauthenticated


def test_key_is_stored_hashed_never_in_clear(session: Session, clock: FrozenClock) -> None:
    key, clear = create_api_key(session, name="crm-sync", role="integration", clock=clock)
    stored = session.scalar(select(ApiKey).where(ApiKey.id == key.id))
    assert stored is not None
    columns = [str(getattr(stored, c.key)) for c in ApiKey.__table__.columns]
    assert clear not in columns
    assert stored.key_hash == hash_key(clear)
    assert clear.startswith("cmp_")
    assert len(clear) > 40


def test_authenticate_returns_the_principal_with_user(session: Session, clock: FrozenClock) -> None:
    user = create_user(session, name="Rui", email="Rui@Example.com", clock=clock)
    _, clear = create_api_key(session, name="rui-phone", role="rep", user_id=user.id, clock=clock)
    principal = authenticate(session, clear)
    assert (principal.key_name, principal.role, principal.user_id) == (
        "rui-phone",
        Role.REP,
        user.id,
    )
    assert user.email == "rui@example.com"


def test_unknown_and_revoked_keys_are_rejected(session: Session, clock: FrozenClock) -> None:
    _, clear = create_api_key(session, name="old", role="planner", clock=clock)
    with pytest.raises(Unauthenticated):
        authenticate(session, clear + "x")
    revoke_api_key(session, name="old", clock=clock)
    with pytest.raises(Unauthenticated):
        authenticate(session, clear)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  ", "role": "rep"}, "name"),
        ({"name": "k", "role": "superuser"}, "role"),
        ({"name": "k", "role": "rep", "user_id": 999_999}, "user_id"),
    ],
)
def test_bad_key_requests_name_the_field(
    session: Session, clock: FrozenClock, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        create_api_key(session, clock=clock, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_duplicate_names_conflict(session: Session, clock: FrozenClock) -> None:
    create_api_key(session, name="dup", role="rep", clock=clock)
    with pytest.raises(Conflict):
        create_api_key(session, name="dup", role="rep", clock=clock)
    create_user(session, name="A", email="a@x.io", clock=clock)
    with pytest.raises(Conflict):
        create_user(session, name="B", email="A@X.io", clock=clock)


def test_roles_admit_admin_and_listed_roles_only(session: Session, clock: FrozenClock) -> None:
    _, rep = create_api_key(session, name="r", role="rep", clock=clock)
    _, admin = create_api_key(session, name="a", role="admin", clock=clock)
    authenticate(session, rep).require(Role.REP, Role.MANAGER)
    authenticate(session, admin).require(Role.PLANNER)
    with pytest.raises(PermissionDenied, match="rep"):
        authenticate(session, rep).require(Role.PLANNER)


def test_principal_cache_expires_and_clears(session: Session, clock: FrozenClock) -> None:
    _, clear = create_api_key(session, name="c", role="rep", clock=clock)
    principal = authenticate(session, clear)
    cache = PrincipalCache(ttl=60)
    assert cache.get(clear) is None
    cache.put(clear, principal)
    assert cache.get(clear) == principal
    cache.clear()
    assert cache.get(clear) is None
    disabled = PrincipalCache(ttl=0)
    disabled.put(clear, principal)
    assert disabled.get(clear) is None
