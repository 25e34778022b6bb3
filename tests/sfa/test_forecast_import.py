"""8,000 opportunities imported from a generated CSV: the forecast and the analytics the API
returns equal the figures computed straight from the file, in plain Python, here."""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import T0
from tests.conftest import KeyMaker
from tests.sfa.builders import Org, make_org

OPEN = [("Prospecting", 10), ("Qualification", 20), ("Proposal", 50), ("Negotiation", 70)]
PROB = {**dict(OPEN), "Won": 100, "Lost": 0}
KIND = {**{n: "open" for n, _ in OPEN}, "Won": "won", "Lost": "lost"}
LADDER = [n for n, _ in OPEN] + ["Won"]
N_ROWS = 8000


def _history(rng: random.Random) -> list[tuple[str, datetime]]:
    at = T0 - timedelta(days=rng.randint(1, 365), seconds=rng.randint(0, 86_399))
    index = rng.choice([0, 0, 1])
    steps = [(OPEN[index][0], at)]
    while True:
        at += timedelta(days=rng.randint(0, 40), seconds=rng.randint(0, 86_399))
        if at >= T0:
            return steps
        roll = rng.random()
        if roll < 0.15:
            return [*steps, ("Lost", at)]
        if index == len(OPEN) - 1 or roll < 0.25:
            return [*steps, ("Won" if rng.random() < 0.6 else "Lost", at)]
        index = min(index + rng.choice([1, 1, 2]), len(OPEN) - 1)
        steps.append((OPEN[index][0], at))
        if rng.random() < 0.2:
            return steps


def generate(org: Org, rng: random.Random) -> list[dict[str, str]]:
    owners = ["r1@x.io", "r2@x.io", "r3@x.io", "m1@x.io"]
    rows = []
    for n in range(N_ROWS):
        steps = _history(rng)
        expected = T0.date() + timedelta(days=rng.randint(-200, 200))
        rows.append(
            {
                "name": f"Deal {n}",
                "owner_email": rng.choice(owners),
                "stage": steps[-1][0],
                "amount": f"{rng.randint(0, 5_000_000) / 100:.2f}",
                "currency": "USD" if rng.random() < 0.1 else "EUR",
                "expected_close": "" if rng.random() < 0.05 else expected.isoformat(),
                "stage_history": "|".join(f"{s}@{at.isoformat()}" for s, at in steps),
            }
        )
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _steps(row: dict[str, str]) -> list[tuple[str, datetime]]:
    return [
        (s, datetime.fromisoformat(at).astimezone(UTC))
        for s, at in (p.split("@") for p in row["stage_history"].split("|"))
    ]


def _period(row: dict[str, str], period: str) -> str:
    steps = _steps(row)
    if KIND[steps[-1][0]] != "open":
        day = steps[-1][1].date()
    elif row["expected_close"]:
        day = date.fromisoformat(row["expected_close"])
    else:
        return "unscheduled"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def expected_forecast(
    rows: list[dict[str, str]], period: str, group: dict[str, Any]
) -> dict[tuple[str, Any, str], dict[str, Any]]:
    sums: dict[tuple[str, Any, str], dict[str, Any]] = defaultdict(
        lambda: {"deals": 0, "pipeline": 0, "weighted": 0, "committed": 0, "closed_won": 0}
    )
    for row in rows:
        stage = row["stage"]
        cents = int(Decimal(row["amount"]) * 100)
        bucket = sums[(_period(row, period), group[row["owner_email"]], row["currency"])]
        bucket["deals"] += 1
        if KIND[stage] == "open":
            bucket["pipeline"] += cents
            bucket["committed"] += cents if PROB[stage] >= 70 else 0
        if KIND[stage] != "lost":
            bucket["weighted"] += cents * PROB[stage]
        if KIND[stage] == "won":
            bucket["closed_won"] += cents
    cent = Decimal("0.01")
    return {
        key: {
            "deals": v["deals"],
            "pipeline": str((Decimal(v["pipeline"]) / 100).quantize(cent)),
            "weighted": str((Decimal(v["weighted"]) / 10_000).quantize(cent, ROUND_HALF_EVEN)),
            "committed": str((Decimal(v["committed"]) / 100).quantize(cent)),
            "closed_won": str((Decimal(v["closed_won"]) / 100).quantize(cent)),
        }
        for key, v in sums.items()
    }


def expected_analytics(rows: list[dict[str, str]], stuck_days: int) -> dict[str, Any]:
    won = sum(1 for r in rows if r["stage"] == "Won")
    lost = sum(1 for r in rows if r["stage"] == "Lost")
    cycles, in_stage = [], defaultdict(list)
    reached: dict[str, int] = defaultdict(int)
    stuck = 0
    for row in rows:
        steps = _steps(row)
        if row["stage"] == "Won":
            cycles.append((steps[-1][1] - steps[0][1]).total_seconds() / 86_400)
        if KIND[row["stage"]] == "open" and steps[-1][1] < T0 - timedelta(days=stuck_days):
            stuck += 1
        for (stage, entered), (_, left) in itertools.pairwise(steps):
            in_stage[stage].append((left - entered).total_seconds() / 86_400)
        highest = max(LADDER.index(s) for s, _ in steps if s in LADDER)
        for name in LADDER[: highest + 1]:
            reached[name] += 1
    return {
        "deals": len(rows),
        "won": won,
        "lost": lost,
        "win_rate": won / (won + lost),
        "avg_cycle_days": sum(cycles) / len(cycles),
        "avg_days_in_stage": {s: sum(v) / len(v) for s, v in in_stage.items()},
        "conversion": [(a, b, reached[a], reached[b]) for a, b in itertools.pairwise(LADDER)],
        "stuck": stuck,
    }


def test_8000_imported_opportunities_match_the_file(
    client: TestClient, auth_headers: KeyMaker
) -> None:
    """One import (the slow part), then every check against the same data."""
    imported = import_file(client, auth_headers)
    check_forecast(client, imported)
    check_analytics(client, imported)
    check_visibility(client, imported)


def import_file(client: TestClient, auth_headers: KeyMaker) -> tuple[Org, list[dict[str, str]]]:
    org = make_org(client, auth_headers)
    for name, manager, members in (("North", org.m1, [org.r1, org.r2]), ("East", org.m2, [org.r3])):
        team = client.post(
            "/api/v1/teams",
            json={
                "name": name,
                "manager_id": manager.user_id,
                "member_ids": [m.user_id for m in members],
            },
            headers=org.admin.headers,
        )
        assert team.status_code == 201
    rows = generate(org, random.Random(20260302))
    response = client.post(
        "/api/v1/imports/opportunities",
        content=to_csv(rows).encode(),
        headers={**org.admin.headers, "content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["imported"], report["rejected"]) == (N_ROWS, N_ROWS, 0)
    return org, rows


def check_forecast(client: TestClient, imported: tuple[Org, list[dict[str, str]]]) -> None:
    org, rows = imported
    ids = {"r1@x.io": org.r1.user_id, "r2@x.io": org.r2.user_id, "r3@x.io": org.r3.user_id}
    ids["m1@x.io"] = org.m1.user_id
    team_names = {"r1@x.io": "North", "r2@x.io": "North", "r3@x.io": "East", "m1@x.io": None}
    for period in ("month", "quarter"):
        for group_by, group in (("rep", ids), ("team", team_names)):
            body = client.get(
                "/api/v1/forecast",
                params={"period": period, "group_by": group_by},
                headers=org.admin.headers,
            ).json()
            key = "group_id" if group_by == "rep" else "group_name"
            got = {
                (b["period"], b[key], b["currency"]): {
                    k: b[k] for k in ("deals", "pipeline", "weighted", "committed", "closed_won")
                }
                for b in body["buckets"]
            }
            assert got == expected_forecast(rows, period, group), (period, group_by)


def check_analytics(client: TestClient, imported: tuple[Org, list[dict[str, str]]]) -> None:
    org, rows = imported
    body = client.get(
        "/api/v1/sales/analytics", params={"stuck_days": 30}, headers=org.admin.headers
    ).json()
    want = expected_analytics(rows, 30)
    total = body["total"]
    assert (total["deals"], total["won"], total["lost"]) == (
        want["deals"],
        want["won"],
        want["lost"],
    )
    assert total["win_rate"] == pytest.approx(want["win_rate"], abs=1e-6)
    assert total["avg_cycle_days"] == pytest.approx(want["avg_cycle_days"], abs=1e-5)
    assert total["avg_days_in_stage"] == pytest.approx(want["avg_days_in_stage"], abs=1e-5)
    assert [
        (c["from_stage"], c["to_stage"], c["reached_from"], c["reached_to"])
        for c in total["conversion"]
    ] == want["conversion"]
    assert total["stuck"] == want["stuck"]
    per_rep = {m["group_id"]: m for m in body["by_rep"]}
    r3_rows = [r for r in rows if r["owner_email"] == "r3@x.io"]
    assert per_rep[org.r3.user_id]["deals"] == len(r3_rows)
    r3 = expected_analytics(r3_rows, 30)
    assert per_rep[org.r3.user_id]["win_rate"] == pytest.approx(r3["win_rate"], abs=1e-6)
    per_team = {m["group_name"]: m for m in body["by_team"]}
    north = [r for r in rows if r["owner_email"] in {"r1@x.io", "r2@x.io"}]
    assert per_team["North"]["deals"] == len(north)
    north_want = expected_analytics(north, 30)
    assert per_team["North"]["avg_cycle_days"] == pytest.approx(
        north_want["avg_cycle_days"], abs=1e-5
    )


def check_visibility(client: TestClient, imported: tuple[Org, list[dict[str, str]]]) -> None:
    org, rows = imported
    body = client.get("/api/v1/forecast", headers=org.m2.headers).json()
    assert {b["group_id"] for b in body["buckets"]} == {org.r3.user_id}
    assert sum(b["deals"] for b in body["buckets"]) == sum(
        1 for r in rows if r["owner_email"] == "r3@x.io"
    )
