"""SFA against a real `campana serve` process: a signed webhook lead (replayed under its
Idempotency-Key), a CSV upload through multipart, then a phone syncing and editing with ETags.

Bad inputs tried: a tampered body under a valid signature, a stale If-Match, concurrent
replays of one Idempotency-Key, concurrent leads with one new email under different keys.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sfa.leads import sign
from tests.conftest import DatabaseServer
from tests.e2e.server import campana_env, running_server


@pytest.fixture
def server(database_server: DatabaseServer, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with running_server(campana_env(database_server.fresh(), tmp_path)) as running:
        yield running


def test_leads_imports_and_mobile_sync(server: tuple[str, str]) -> None:
    base, key = server
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=auth, timeout=30) as admin:
        _flow(base, admin)


def _flow(base: str, admin: httpx.Client) -> None:
    secret = admin.post("/api/v1/integrations", json={"name": "site"}).json()["secret"]
    body = json.dumps({"email": "Web@Lead.io", "phone": "+351 912 000 222"}).encode()
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "Idempotency-Key": "lead-1",
        "X-Campana-Integration": "site",
        "X-Campana-Timestamp": stamp,
        "X-Campana-Signature": sign(secret, stamp, body),
    }
    first = httpx.post(f"{base}/api/v1/leads", content=body, headers=headers)
    replay = httpx.post(f"{base}/api/v1/leads", content=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert first.json() == replay.json()
    tampered = httpx.post(f"{base}/api/v1/leads", content=body + b" ", headers=headers)
    assert tampered.status_code == 401
    csv_file = "name,amount,stage,contact_email\nBig deal,1200.00,Proposal,web@lead.io\n"
    report = admin.post(
        "/api/v1/imports/opportunities", files={"file": ("o.csv", csv_file.encode(), "text/csv")}
    ).json()
    assert (report["imported"], report["rejected"]) == (1, 0)
    synced = admin.get("/api/v1/sync").json()
    assert [c["email"] for c in synced["contacts"]] == ["web@lead.io"]
    deal = synced["opportunities"][0]
    url = f"/api/v1/opportunities/{deal['id']}"
    etag = admin.get(url).headers["etag"]
    moved = admin.patch(url, json={"stage": "Won"}, headers={"If-Match": etag})
    assert moved.status_code == 200
    stale = admin.patch(url, json={"stage": "Lost"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    later = admin.get("/api/v1/sync", params={"since": synced["cursor"]}).json()
    assert [o["stage"] for o in later["opportunities"]] == ["Won"]


def _integration_key(admin: httpx.Client) -> str:
    admin.post("/api/v1/integrations", json={"name": "burst"})
    key: str = admin.post(
        "/api/v1/apikeys", json={"name": "burst-key", "role": "integration"}
    ).json()["key"]
    return key


def test_concurrent_replays_of_one_idempotency_key_make_one_lead(
    server: tuple[str, str],
) -> None:
    base, key = server
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=auth, timeout=30) as admin:
        integration_key = _integration_key(admin)
        headers = {"Authorization": f"Bearer {integration_key}", "Idempotency-Key": "same"}
        lead = {"email": "burst@x.io", "source": "burst"}

        def push(_: int) -> tuple[int, str]:
            response = httpx.post(f"{base}/api/v1/leads", json=lead, headers=headers, timeout=30)
            return response.status_code, json.dumps(response.json(), sort_keys=True)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = set(pool.map(push, range(16)))
        assert len(answers) == 1
        status, text = answers.pop()
        assert status == 201, text
        log = admin.get("/api/v1/leads/ingestions").json()
        assert [row["outcome"] for row in log] == ["created"]


def test_concurrent_leads_with_one_new_email_share_one_contact(server: tuple[str, str]) -> None:
    """Bad input: 8 concurrent leads for one new email, each under its own Idempotency-Key."""
    base, key = server
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=auth, timeout=30) as admin:
        integration = {"Authorization": f"Bearer {_integration_key(admin)}"}
        lead = {"email": "Race@X.io", "source": "race"}

        def push(n: int) -> tuple[int, int]:
            headers = {**integration, "Idempotency-Key": f"race-{n}"}
            response = httpx.post(f"{base}/api/v1/leads", json=lead, headers=headers, timeout=30)
            assert response.status_code in (200, 201), response.text
            return response.status_code, response.json()["contact_id"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(push, range(8)))
        assert sorted(status for status, _ in answers) == [200] * 7 + [201]
        assert len({contact for _, contact in answers}) == 1
        contacts = admin.get("/api/v1/contacts", params={"limit": 50}).json()
        assert [c["email"] for c in contacts["items"]] == ["race@x.io"]
        assert len(admin.get("/api/v1/leads", params={"limit": 50}).json()) == 8
