"""Demo data of the kernel: the people of a small company and their API keys."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import User, create_api_key, create_user
from core.clock import Clock

DEMO_ADMIN_EMAIL = "ada@demo.campana.dev"

PEOPLE: tuple[tuple[str, str, str | None, str], ...] = (
    ("Ada Admin", DEMO_ADMIN_EMAIL, None, "admin"),
    ("Marta Manager", "marta@demo.campana.dev", DEMO_ADMIN_EMAIL, "manager"),
    ("Rui Rep", "rui@demo.campana.dev", "marta@demo.campana.dev", "rep"),
    ("Rosa Rep", "rosa@demo.campana.dev", "marta@demo.campana.dev", "rep"),
    ("Pablo Planner", "pablo@demo.campana.dev", DEMO_ADMIN_EMAIL, "planner"),
    ("Olga Operator", "olga@demo.campana.dev", DEMO_ADMIN_EMAIL, "operator"),
)


def load(session: Session, clock: Clock) -> str:
    """Create the demo people with one key each; a second run changes nothing."""
    if session.scalar(select(User.id).where(User.email == DEMO_ADMIN_EMAIL)) is not None:
        return (
            "core: demo people already loaded; for a new admin key run "
            "`campana apikey create --name NAME --role admin`"
        )
    ids: dict[str, int] = {}
    admin_key = ""
    for name, email, manager_email, role in PEOPLE:
        manager_id = ids[manager_email] if manager_email else None
        user = create_user(session, name=name, email=email, manager_id=manager_id, clock=clock)
        ids[email] = user.id
        _, clear = create_api_key(
            session, name=f"demo-{role}-{user.id}", role=role, user_id=user.id, clock=clock
        )
        if role == "admin":
            admin_key = clear
    return f"core: {len(PEOPLE)} demo people; admin API key {admin_key}"
