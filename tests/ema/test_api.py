"""The planner's whole flow through the API: segment, journey with wait and branch, plan,
launch, enrolments moving; plus 422s naming the rule or step, and who may do what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.runtime import Runtime
from core.clock import FrozenClock
from ema import jobs
from ema.returns import Return
from tests.conftest import KeyMaker
from tests.ema import builders

SEGMENT = {
    "name": "Spain",
    "rules": {
        "all": [
            {"field": "country", "op": "eq", "value": "ES"},
            {"field": "attributes.score", "op": "gte", "value": 50},
        ]
    },
}


def _journey(tpl: dict[str, int]) -> dict[str, Any]:
    return {
        "start": "s1",
        "steps": [
            {"id": "s1", "type": "send", "content": {"email": tpl["email"]}, "next": "w1"},
            {"id": "w1", "type": "wait", "duration": "P2D", "next": "b1"},
            {"id": "b1", "type": "branch", "on": "email.opened", "then": "s2", "else": "s3"},
            {"id": "s2", "type": "send", "content": {"sms": tpl["sms"]}},
            {"id": "s3", "type": "send", "content": {"email": tpl["email"]}},
        ],
    }


def test_planner_flow_through_the_api(
    client: TestClient,
    auth_headers: KeyMaker,
    session: Session,
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    planner = auth_headers("planner", user="pablo@x.io")
    ids = builders.contacts(session, clock, 4, country="ES", attributes={"score": 70})
    builders.contact(session, clock, email="low@x.io", country="ES", attributes={"score": 10})
    tpl = builders.templates(session, clock)
    session.flush()
    segment = client.post("/api/v1/segments", json=SEGMENT, headers=planner)
    assert segment.status_code == 201, segment.text
    sid = segment.json()["id"]
    assert client.get(f"/api/v1/segments/{sid}/count", headers=planner).json() == {
        "segment_id": sid,
        "count": 4,
    }
    page = client.get(f"/api/v1/segments/{sid}/contacts?limit=3", headers=planner).json()
    assert len(page["items"]) == 3
    rest = client.get(
        f"/api/v1/segments/{sid}/contacts",
        params={"limit": 3, "cursor": page["next_cursor"]},
        headers=planner,
    ).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    preview = client.get(f"/api/v1/segments/{sid}/preview", headers=planner).json()
    assert [n["count"] for n in preview["nodes"]] == [4, 5, 4]

    body = {
        "name": "Welcome",
        "segment_id": sid,
        "budget": 1000,
        "channel_costs": {"email": 0.01, "sms": 0.05},
        "journey": _journey(tpl),
    }
    created = client.post("/api/v1/campaigns", json=body, headers=planner)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["status"] == "draft"
    task = client.post(
        f"/api/v1/campaigns/{cid}/tasks",
        json={"name": "legal review", "duration_days": 2},
        headers=planner,
    ).json()
    plan = client.get(f"/api/v1/campaigns/{cid}/plan", headers=planner).json()
    assert plan["critical_path"] == [task["id"]]
    blocked = client.post(f"/api/v1/campaigns/{cid}/launch", headers=planner)
    assert blocked.status_code == 409
    assert blocked.json()["errors"][0]["field"] == "plan"
    client.patch(
        f"/api/v1/campaigns/{cid}/tasks/{task['id']}", json={"status": "done"}, headers=planner
    )
    simulated = client.post(
        f"/api/v1/campaigns/{cid}/simulate", json={"days": 10}, headers=planner
    ).json()
    assert simulated["audience"] == 4
    assert simulated["per_step"]["s1"] == 4
    launched = client.post(f"/api/v1/campaigns/{cid}/launch", headers=planner).json()
    assert launched["status"] == "running"
    assert launched["counts"]["enrolled"] == 4

    jobs.advance(runtime.job_context())
    steps = {
        s["step_id"]: s
        for s in client.get(f"/api/v1/campaigns/{cid}", headers=planner).json()["steps"]
    }
    assert (steps["s1"]["done"], steps["w1"]["waiting"]) == (4, 4)
    session.add(
        Return(
            contact_id=ids[0],
            campaign_id=cid,
            kind="email.opened",
            occurred_at=clock.now(),
            detail={},
        )
    )
    session.flush()
    assert (
        client.post(f"/api/v1/campaigns/{cid}/pause", headers=planner).json()["status"] == "paused"
    )
    clock.advance(timedelta(days=2))
    jobs.advance(runtime.job_context())
    steps = {
        s["step_id"]: s
        for s in client.get(f"/api/v1/campaigns/{cid}", headers=planner).json()["steps"]
    }
    assert steps["w1"]["waiting"] == 4
    assert (
        client.post(f"/api/v1/campaigns/{cid}/resume", headers=planner).json()["status"]
        == "running"
    )
    jobs.advance(runtime.job_context())
    read = client.get(f"/api/v1/campaigns/{cid}", headers=planner).json()
    steps = {s["step_id"]: (s["enrolled"], s["waiting"], s["done"]) for s in read["steps"]}
    assert steps["s2"] == (1, 0, 1)
    assert steps["s3"] == (3, 0, 3)
    assert read["status"] == "completed"


def test_422s_name_the_rule_path_and_the_step(
    client: TestClient, auth_headers: KeyMaker, session: Session, clock: FrozenClock
) -> None:
    # bad inputs: unknown operator deep in the tree, unknown field, dangling step,
    # a template of the wrong channel, a call step without a phone channel, an unknown segment
    planner = auth_headers("planner")
    rules = {
        "all": [
            {"field": "country", "op": "eq", "value": "ES"},
            {"any": [{"field": "country", "op": "like", "value": "E"}]},
        ]
    }
    response = client.post("/api/v1/segments", json={"name": "x", "rules": rules}, headers=planner)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "rules.all[1].any[0].op", "reason": "unknown operator 'like'"}
    ]
    response = client.post(
        "/api/v1/segments",
        json={"name": "y", "rules": {"field": "shoe", "op": "eq", "value": 1}},
        headers=planner,
    )
    assert response.json()["errors"][0]["field"] == "rules.field"
    tpl = builders.templates(session, clock)
    session.flush()
    sid = client.post("/api/v1/segments", json=SEGMENT, headers=planner).json()["id"]
    journey = _journey(tpl)
    journey["steps"][3]["next"] = "gone"
    journey["steps"][4]["content"] = {"email": tpl["sms"]}
    response = client.post(
        "/api/v1/campaigns",
        json={"name": "c", "segment_id": sid, "journey": journey},
        headers=planner,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "journey.steps[3].next", "reason": "step 's2': names no step 'gone'"},
        {
            "field": "journey.steps[4].content.email",
            "reason": f"step 's3': template {tpl['sms']} is for sms, not email",
        },
    ]
    call = {"start": "c", "steps": [{"id": "c", "type": "call"}]}
    response = client.post(
        "/api/v1/campaigns", json={"name": "c", "segment_id": sid, "journey": call}, headers=planner
    )
    assert response.json()["errors"][0]["field"] == "journey.steps[0].type"
    response = client.post(
        "/api/v1/campaigns",
        json={"name": "c", "segment_id": 424242, "journey": call},
        headers=planner,
    )
    assert response.json()["errors"][0]["field"] == "segment_id"


def test_roles(client: TestClient, auth_headers: KeyMaker) -> None:
    planner, manager, rep = auth_headers("planner"), auth_headers("manager"), auth_headers("rep")
    sid = client.post("/api/v1/segments", json=SEGMENT, headers=planner).json()["id"]
    assert client.get(f"/api/v1/segments/{sid}", headers=manager).status_code == 200
    assert client.get("/api/v1/campaigns", headers=manager).status_code == 200
    assert (
        client.post("/api/v1/segments", json={**SEGMENT, "name": "m"}, headers=manager).status_code
        == 403
    )
    assert client.get("/api/v1/segments", headers=rep).status_code == 403
    assert client.get("/api/v1/campaigns/424242", headers=manager).status_code == 404
