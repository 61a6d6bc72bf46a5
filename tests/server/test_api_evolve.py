"""Upgrades, forks and schedules over HTTP, through a real server, with tenancy."""

from __future__ import annotations

import time

import httpx

WAITS = '''async def run(event, step):
    first = await step.do("first", lambda: 1)
    await step.wait_for_event("go", type="go", timeout="1 day")
    return first
'''
SAME = WAITS.replace("return first", "return first + 1")
OTHER = WAITS.replace('"first"', '"other"')


def _waiting(client: httpx.Client, id: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if client.get(f"/v1/agents/alice/instances/{id}").json()["status"] == "waiting":
            return
        time.sleep(0.05)
    raise AssertionError(f"{id} never waited")


def test_verify_upgrade_fork_and_tenancy(alice: httpx.Client, bob: httpx.Client) -> None:
    base = "/v1/agents/alice"
    assert alice.post(base + "/plans", json={"name": "evo", "source": WAITS}).status_code == 201
    alice.post(base + "/instances", json={"plan": "evo", "id": "e1"}).raise_for_status()
    _waiting(alice, "e1")
    alice.post(base + "/plans", json={"name": "evo", "source": OTHER}).raise_for_status()
    check = alice.post(base + "/instances/e1/verify-upgrade", json={"version": 2}).json()
    assert check["compatible"] is False
    assert check["divergence"]["recorded"]["name"] == "first"
    refused = alice.post(base + "/instances/e1/upgrade", json={"version": 2})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "upgrade_refused"
    alice.post(base + "/plans", json={"name": "evo", "source": SAME}).raise_for_status()
    bulk = alice.post(base + "/plans/evo/verify-upgrade", json={}).json()
    assert (bulk["version"], bulk["compatible"], bulk["refused"]) == (3, 1, 0)
    moved = alice.post(base + "/instances/e1/upgrade", json={})
    assert moved.status_code == 200 and moved.json()["instance"]["version"] == 3
    fork = alice.post(base + "/instances/e1/fork", json={"from_step": "first", "id": "f1"})
    assert fork.status_code == 201 and fork.json()["id"] == "f1"
    # bob's token: alice's ids answer like missing ones; bob's own agent has no e1
    for path in ("/instances/e1/verify-upgrade", "/instances/e1/upgrade",
                 "/instances/e1/fork", "/plans/evo/upgrade"):
        assert bob.post(base + path, json={}).status_code == 404
    mine = bob.post("/v1/agents/bob/instances/e1/upgrade", json={})
    assert mine.json()["error"]["code"] == "instance_not_found"


def test_schedules_create_list_pause_resume_delete(alice: httpx.Client,
                                                   bob: httpx.Client) -> None:
    base = "/v1/agents/alice"
    alice.post(base + "/plans", json={"name": "nightly", "source": WAITS}).raise_for_status()
    made = alice.post(base + "/schedules", json={"name": "n1", "plan": "nightly",
                                                 "cron": "0 3 * * *"})
    assert made.status_code == 201 and made.json()["paused"] is False
    assert [s["name"] for s in alice.get(base + "/schedules").json()["items"]] == ["n1"]
    assert alice.post(base + "/schedules/n1/pause").json()["paused"] is True
    assert alice.post(base + "/schedules/n1/resume").json()["paused"] is False
    assert bob.get(base + "/schedules/n1").status_code == 404
    assert bob.get("/v1/agents/bob/schedules/n1").json()["error"]["code"] == \
        "schedule_not_found"
    bad = alice.post(base + "/schedules", json={"name": "n2", "plan": "nightly",
                                                "cron": "nope"})
    assert bad.json()["error"]["code"] == "invalid_request"
    assert alice.delete(base + "/schedules/n1").status_code == 204
    assert alice.get(base + "/schedules/n1").status_code == 404
