"""Templates through the API: versions, MJML compiled once, errors with line numbers, preview.

Bad inputs tried: MJML that does not parse, Jinja2 with a syntax error (line
named), an email without subject, both mjml and html, an unknown channel, a
webhook without URL, a sandbox escape attempt, a rep creating a template,
a preview for a missing contact, a version of another channel.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.channels import builders
from tests.conftest import KeyMaker

MJML = builders.MJML


def test_create_read_version_and_preview_an_mjml_email(
    client: TestClient, auth_headers: KeyMaker, session: Session
) -> None:
    headers = auth_headers("planner")
    created = client.post(
        "/api/v1/templates",
        json={
            "name": "Spring",
            "channel": "email",
            "subject": "Hi {{ contact.first_name }}",
            "mjml": MJML,
            "text": "Hi {{ contact.first_name }}",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]
    assert created.json()["version"] == 1
    stored = client.get(f"/api/v1/templates/{template_id}", headers=headers).json()
    assert "<html" in stored["html"]  # compiled once, when saved
    assert stored["mjml"] == MJML

    second = client.post(
        f"/api/v1/templates/{template_id}/versions",
        json={"channel": "email", "subject": "Hello {{ contact.first_name }}", "html": "<p>v2</p>"},
        headers=headers,
    )
    assert second.json()["version"] == 2

    person = builders.contact(session, first_name="Rui")
    session.commit()
    preview = client.post(
        f"/api/v1/templates/{template_id}/preview", json={"contact_id": person.id}, headers=headers
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["subject"] == "Hello Rui"
    assert "<p>v2</p>" in body["html"]
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    first = client.post(
        f"/api/v1/templates/{template_id}/preview",
        json={"contact_id": person.id, "version": 1},
        headers=headers,
    ).json()
    assert first["subject"] == "Hi Rui"
    assert "Hello Rui" in first["html"]


def test_errors_name_the_field_and_the_line(client: TestClient, auth_headers: KeyMaker) -> None:
    headers = auth_headers("planner")

    def errors(payload: dict[str, object]) -> list[dict[str, str]]:
        response = client.post("/api/v1/templates", json={"name": "x", **payload}, headers=headers)
        assert response.status_code == 422, response.text
        return list(response.json()["errors"])

    broken = "<mjml><mj-body>\n<mj-section><mj-column>\n<mj-text>{{ contact.name </mj-text>"
    jinja = errors(
        {
            "channel": "email",
            "subject": "s",
            "mjml": broken + "</mj-column></mj-section></mj-body></mjml>",
        }
    )
    assert jinja[0]["field"] == "mjml"
    assert jinja[0]["reason"].startswith("line 3:")
    unclosed = errors(
        {"channel": "email", "subject": "s", "mjml": "<mjml><mj-body>\n<mj-section>\n"}
    )
    assert unclosed[0]["field"] == "mjml"
    assert unclosed[0]["reason"].startswith("line ")
    assert errors({"channel": "email", "html": "<p>x</p>"})[0] == {
        "field": "subject",
        "reason": "required for the email channel",
    }
    both = errors({"channel": "email", "subject": "s", "html": "<p/>", "mjml": MJML})
    assert both[0]["field"] == "mjml"
    assert errors({"channel": "fax", "body": "x"})[0]["field"] == "channel"
    assert errors({"channel": "sms"})[0]["field"] == "body"
    assert errors({"channel": "webhook", "data": {"url": "ftp://x"}})[0]["field"] == "data.url"
    text = errors({"channel": "sms", "body": "Hi {% if %}"})
    assert text[0]["field"] == "body"
    assert text[0]["reason"].startswith("line 1:")


def test_the_sandbox_refuses_unsafe_attributes_at_preview(
    client: TestClient, auth_headers: KeyMaker, session: Session
) -> None:
    headers = auth_headers("planner")
    created = client.post(
        "/api/v1/templates",
        json={"name": "evil", "channel": "sms", "body": "{{ contact.__class__.__mro__ }}"},
        headers=headers,
    ).json()
    person = builders.contact(session)
    session.commit()
    response = client.post(
        f"/api/v1/templates/{created['id']}/preview",
        json={"contact_id": person.id},
        headers=headers,
    )
    assert response.status_code in (200, 422)
    assert "object" not in (response.json().get("text") or "")


def test_sms_preview_counts_segments_and_only_planners_write(
    client: TestClient, auth_headers: KeyMaker, session: Session
) -> None:
    rep = client.post(
        "/api/v1/templates",
        json={"name": "s", "channel": "sms", "body": "x"},
        headers=auth_headers("rep"),
    )
    assert rep.status_code == 403
    headers = auth_headers("planner")
    created = client.post(
        "/api/v1/templates",
        json={"name": "s", "channel": "sms", "body": "Olá {{ contact.first_name }}, oferta!"},
        headers=headers,
    ).json()
    person = builders.contact(session, first_name="Inês")
    session.commit()
    preview = client.post(
        f"/api/v1/templates/{created['id']}/preview",
        json={"contact_id": person.id},
        headers=headers,
    ).json()
    assert preview["text"] == "Olá Inês, oferta!"
    assert (preview["sms_encoding"], preview["sms_segments"]) == ("ucs2", 1)
    assert preview["to"] == person.phone
    missing = client.post(
        f"/api/v1/templates/{created['id']}/preview", json={"contact_id": 999999}, headers=headers
    )
    assert missing.status_code == 404
    wrong = client.post(
        f"/api/v1/templates/{created['id']}/versions",
        json={"channel": "email", "subject": "s", "html": "<p/>"},
        headers=headers,
    )
    assert wrong.status_code == 422
