"""Demo data of SFA: a sales team, accounts, 200 contacts with consents, a year of pipeline.

Reuses the core demo people (Marta manages Rui and Rosa) and goes through
the real import path, so the demo exercises what users run. A second run
changes nothing.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import SYSTEM, User
from core.clock import Clock
from sfa.activities import ActivityCreate, ActivityKind, create_activity
from sfa.imports import import_contacts, import_opportunities
from sfa.models import Contact, Team
from sfa.schemas import AccountCreate, TeamCreate
from sfa.service import create_account
from sfa.teams import create_team

TEAM = "Lisbon field sales"
MANAGER, REPS = "marta@demo.campana.dev", ("rui@demo.campana.dev", "rosa@demo.campana.dev")
FIRST = ("Ana", "João", "Maria", "Pedro", "Inês", "Tiago", "Sofia", "Miguel", "Rita", "Luís")
LAST = ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins")
COMPANIES = (
    "Atlântico Bombas",
    "Douro Têxteis",
    "Tejo Logística",
    "Minho Solar",
    "Algarve Hotéis",
    "Porto Metal",
    "Alentejo Agro",
    "Sintra Software",
    "Beira Cerâmica",
    "Faro Pescas",
)
OPEN = ("Prospecting", "Qualification", "Proposal", "Negotiation")


def load(session: Session, clock: Clock) -> str:
    """Load the SFA demo; needs the core demo people."""
    if session.scalar(select(Team.id).where(Team.name == TEAM)) is not None:
        return "sfa: demo already loaded"
    people: dict[str, int] = {}
    for email, user_id in session.execute(select(User.email, User.id)):
        people[email] = user_id
    if MANAGER not in people:
        return "sfa: core demo people missing; nothing loaded"
    rng = random.Random(2026)  # noqa: S311 - demo data, not secrets
    create_team(
        session,
        TeamCreate(name=TEAM, manager_id=people[MANAGER], member_ids=[people[r] for r in REPS]),
        actor=SYSTEM,
        clock=clock,
    )
    accounts = [
        create_account(session, AccountCreate(name=name, country="PT"), actor=SYSTEM, clock=clock)
        for name in COMPANIES
    ]
    people_csv, owners = _contacts_csv(rng)
    contacts = import_contacts(session, people_csv, actor=SYSTEM, clock=clock)
    deals_csv = _deals_csv(rng, clock.now(), owners)
    deals = import_opportunities(session, deals_csv, actor=SYSTEM, clock=clock)
    activities = _activities(session, rng, clock)
    return (
        f"sfa: team {TEAM!r}, {len(accounts)} accounts, {contacts.imported} contacts, "
        f"{deals.imported} opportunities, {activities} activities"
    )


def _csv(header: list[str], rows: list[list[str]]) -> io.StringIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    out.seek(0)
    return out


def _contacts_csv(rng: random.Random) -> tuple[io.StringIO, dict[str, str]]:
    """The contacts file and, per contact email, its owner's email."""
    rows = []
    for n in range(200):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            [
                first,
                last,
                f"{first.lower()}.{last.lower()}.{n}@demo-customer.pt",
                f"+3519{rng.randint(10_000_000, 39_999_999)}",
                "PT",
                "Europe/Lisbon",
                "pt",
                rng.choice(["email", "sms", "phone"]),
                rng.choice(REPS),
                rng.choice(["yes", "yes", "no"]),
                rng.choice(["yes", "no", ""]),
                rng.choice(COMPANIES),
            ]
        )
    header = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "country",
        "time_zone",
        "language",
        "preferred_channel",
        "owner_email",
        "consent_email",
        "consent_sms",
        "account",
    ]
    return _csv(header, rows), {row[2]: row[8] for row in rows}


def _history(rng: random.Random, now: datetime) -> list[tuple[str, datetime]]:
    at = now - timedelta(days=rng.randint(5, 365))
    steps, index = [(OPEN[0], at)], 0
    while index < len(OPEN) - 1 and rng.random() < 0.75:
        at += timedelta(days=rng.randint(2, 30))
        if at >= now:
            return steps
        index += 1
        steps.append((OPEN[index], at))
    at += timedelta(days=rng.randint(2, 30))
    if at < now and rng.random() < 0.7:
        steps.append(("Won" if rng.random() < 0.55 else "Lost", at))
    return steps


def _deals_csv(rng: random.Random, now: datetime, owners: dict[str, str]) -> io.StringIO:
    rows = []
    emails = sorted(owners)
    for n in range(300):
        steps = _history(rng, now)
        buyer = rng.choice(emails)
        close = (steps[-1][1] + timedelta(days=rng.randint(10, 90))).date()
        rows.append(
            [
                f"{rng.choice(COMPANIES)} deal {n}",
                owners[buyer],
                buyer,
                f"{rng.randint(500, 80_000)}.00",
                "EUR",
                close.isoformat(),
                "|".join(f"{s}@{t.isoformat()}" for s, t in steps),
            ]
        )
    header = [
        "name",
        "owner_email",
        "contact_email",
        "amount",
        "currency",
        "expected_close",
        "stage_history",
    ]
    return _csv(header, rows)


def _activities(session: Session, rng: random.Random, clock: Clock) -> int:
    contact_ids = list(session.scalars(select(Contact.id).order_by(Contact.id).limit(200)))
    kinds = list(ActivityKind)
    for contact_id in contact_ids[:120]:
        kind = rng.choice(kinds)
        due = clock.now() + timedelta(days=rng.randint(1, 14))
        data = ActivityCreate(
            kind=kind,
            subject=f"{kind.value.capitalize()} with the customer",
            contact_id=contact_id,
            due_at=due if kind is ActivityKind.TASK else None,
        )
        create_activity(session, data, actor=SYSTEM, clock=clock)
    return min(len(contact_ids), 120)
