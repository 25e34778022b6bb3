"""Contacts through the API: normalisation, bad inputs, consents, ETags, deletes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import KeyMaker
from tests.sfa.builders import contact, make_org


def test_contact_is_normalised_and_owned_by_its_creator(
    client: TestClient, auth_headers: KeyMaker
) -> None:
    org = make_org(client, auth_headers)
    body = contact(
        client,
        org.r1,
        email=" Ana.Silva@Example.COM ",
        phone="912 345 678",
        country="pt",
        time_zone="Europe/Lisbon",
        preferred_channel="SMS",
        consents=[{"channel": "email", "granted": True, "source": "web form"}],
    )
    assert body["email"] == "ana.silva@example.com"
    assert body["phone"] == "+351912345678"
    assert body["country"] == "PT"
    assert body["preferred_channel"] == "sms"
    assert body["owner_id"] == org.r1.user_id
    assert [c["channel"] for c in body["consents"]] == ["email"]


def test_bad_contact_fields_name_the_field(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad inputs: malformed email, impossible phone, unknown zone, channel, country."""
    org = make_org(client, auth_headers)
    cases = {
        "email": {"email": "not-an-email"},
        "phone": {"phone": "12", "country": "PT"},
        "time_zone": {"time_zone": "Mars/Olympus"},
        "preferred_channel": {"preferred_channel": "pigeon"},
        "country": {"country": "Portugal"},
    }
    for field, body in cases.items():
        response = client.post("/api/v1/contacts", json=body, headers=org.r1.headers)
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["field"] == field


def test_duplicate_email_is_a_conflict(client: TestClient, auth_headers: KeyMaker) -> None:
    org = make_org(client, auth_headers)
    contact(client, org.r1, email="a@x.io")
    response = client.post("/api/v1/contacts", json={"email": "A@X.io"}, headers=org.r2.headers)
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"


def test_etag_gives_304_and_stale_if_match_gives_412(
    client: TestClient, auth_headers: KeyMaker
) -> None:
    org = make_org(client, auth_headers)
    created = contact(client, org.r1, email="e@x.io")
    url = f"/api/v1/contacts/{created['id']}"
    first = client.get(url, headers=org.r1.headers)
    etag = first.headers["etag"]
    again = client.get(url, headers={**org.r1.headers, "If-None-Match": etag})
    assert again.status_code == 304
    changed = client.patch(
        url, json={"job_title": "CTO"}, headers={**org.r1.headers, "If-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    stale = client.patch(
        url, json={"job_title": "CEO"}, headers={**org.r1.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.headers["etag"] == changed.headers["etag"]
    assert client.get(url, headers=org.r1.headers).json()["job_title"] == "CTO"


def test_consent_update_and_soft_delete(client: TestClient, auth_headers: KeyMaker) -> None:
    org = make_org(client, auth_headers)
    created = contact(client, org.r1, email="c@x.io")
    url = f"/api/v1/contacts/{created['id']}"
    put = client.put(
        f"{url}/consents",
        json={"channel": "sms", "granted": False, "source": "STOP reply"},
        headers=org.r1.headers,
    )
    assert put.status_code == 200
    assert put.json()["granted"] is False
    deleted = client.delete(url, headers=org.r1.headers).json()
    assert deleted["deleted_at"] is not None
    listed = client.get("/api/v1/contacts", headers=org.r1.headers).json()["items"]
    assert created["id"] not in [c["id"] for c in listed]
    # the address is free again once the holder is deleted
    contact(client, org.r1, email="c@x.io")


def test_accounts_nest(client: TestClient, auth_headers: KeyMaker) -> None:
    org = make_org(client, auth_headers)
    parent = client.post("/api/v1/accounts", json={"name": "Group"}, headers=org.r1.headers)
    child = client.post(
        "/api/v1/accounts",
        json={"name": "Subsidiary", "parent_id": parent.json()["id"]},
        headers=org.r1.headers,
    )
    assert child.status_code == 201
    assert child.json()["parent_id"] == parent.json()["id"]
    bad = client.post(
        "/api/v1/accounts", json={"name": "X", "parent_id": 99999}, headers=org.r1.headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "parent_id"


def test_account_patch_refuses_cycles(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad inputs: an account under its own child, an unknown parent."""
    org = make_org(client, auth_headers)
    top = client.post("/api/v1/accounts", json={"name": "Top"}, headers=org.r1.headers).json()
    sub = client.post(
        "/api/v1/accounts", json={"name": "Sub", "parent_id": top["id"]}, headers=org.r1.headers
    ).json()
    renamed = client.patch(
        f"/api/v1/accounts/{sub['id']}", json={"name": "Sub 2"}, headers=org.r1.headers
    )
    assert renamed.json()["name"] == "Sub 2"
    for parent in (sub["id"], 99999):
        bad = client.patch(
            f"/api/v1/accounts/{top['id']}", json={"parent_id": parent}, headers=org.r1.headers
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "parent_id"
