"""Opportunity import resolves `contact_email` with one query per batch, not one per row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event

from sfa import imports
from tests.conftest import KeyMaker
from tests.sfa.builders import Org, contact, make_org

ROWS = 200


@pytest.fixture
def contact_selects(connection: Connection) -> Iterator[list[str]]:
    """Every SELECT the test's connection runs against sfa_contacts."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2]).lower()
        if statement.lstrip().startswith("select") and "from sfa_contacts" in statement:
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


def _import(client: TestClient, who: Any, body: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/imports/opportunities",
        files={"file": ("o.csv", body.encode(), "text/csv")},
        headers=who.headers,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _contacts(client: TestClient, org: Org) -> None:
    lines = ["first_name,email,owner_email"]
    lines += [f"C{n},c{n}@x.io,r1@x.io" for n in range(ROWS)]
    imported = client.post(
        "/api/v1/imports/contacts",
        files={"file": ("c.csv", ("\n".join(lines) + "\n").encode(), "text/csv")},
        headers=org.admin.headers,
    )
    assert imported.json()["imported"] == ROWS
    contact(client, org.r3, email="hidden@x.io")


@pytest.mark.parametrize("batch", [imports.BATCH, 50])
def test_contact_emails_resolved_once_per_batch(
    client: TestClient,
    auth_headers: KeyMaker,
    contact_selects: list[str],
    monkeypatch: pytest.MonkeyPatch,
    batch: int,
) -> None:
    """Bad inputs: an unknown contact email, a contact the rep may not see, a malformed email."""
    monkeypatch.setattr(imports, "BATCH", batch)
    org = make_org(client, auth_headers)
    _contacts(client, org)
    rows = [f"Deal {n},10.00,C{n}@X.io" for n in range(ROWS)]
    rows[10] = "Ghost,10.00,ghost@x.io"
    rows[20] = "Hidden,10.00,hidden@x.io"
    rows[30] = "Broken,10.00,not-an-email"
    contact_selects.clear()
    report = _import(client, org.r1, "name,amount,contact_email\n" + "\n".join(rows) + "\n")
    assert (report["rows"], report["imported"], report["rejected"]) == (ROWS, ROWS - 3, 3)
    errors = [(e["line"], e["reason"].split(":")[0]) for e in report["errors"]]
    assert errors == [(12, "contact_email"), (22, "contact_email"), (32, "contact_email")]
    assert report["errors"][0]["reason"] == "contact_email: no live contact 'ghost@x.io'"
    assert report["errors"][1]["reason"] == "contact_email: no live contact 'hidden@x.io'"
    assert len(contact_selects) == -(-ROWS // batch)
    mine = client.get("/api/v1/contacts", params={"email": "c7@x.io"}, headers=org.r1.headers)
    deals = client.get(
        "/api/v1/opportunities",
        params={"contact_id": mine.json()["items"][0]["id"]},
        headers=org.r1.headers,
    )
    assert [d["name"] for d in deals.json()] == ["Deal 7"]
