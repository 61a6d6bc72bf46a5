"""The /v1 API through an HTTP client against a real ``agents-durable serve``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import anyio
import httpx
import pytest

from tests.conftest import drop_schema
from tests.server.conftest import Server, another, start_server, stop_server
from tests.server.plans import APPROVAL, INVALID, QUICK

A = "/v1/agents/alice"

# one server (and one browser) per module: under ``pytest -n 4 --dist loadgroup`` the
# module's tests stay on one worker instead of each worker starting its own
pytestmark = pytest.mark.xdist_group("server-api")


def _wait_status(client: httpx.Client, path: str, wanted: set[str], timeout: float = 20
                 ) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(path).json()
        if body.get("status") in wanted or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


@pytest.fixture(scope="module")
def alice(server: Server) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        for name, source in (("approval", APPROVAL), ("quick", QUICK)):
            assert client.post(f"{A}/plans", json={"name": name, "source": source}
                               ).status_code == 201
        yield client


@pytest.fixture
def operator(server: Server) -> Iterator[httpx.Client]:
    with server.client("operator") as client:
        yield client


def test_health_readiness_and_openapi(server: Server) -> None:
    with server.client() as anonymous:
        assert anonymous.get("/healthz").json() == {"ok": True}
        assert anonymous.get("/readyz").json() == {"ok": True}
        document = anonymous.get("/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert f"{A.replace('alice', '{agent}')}/instances/{{id}}/stream" in document["paths"]
    for path in ("/instances/{id}/upgrade", "/instances/{id}/fork",
                 "/plans/{name}/verify-upgrade", "/schedules/{name}/pause"):
        assert "/v1/agents/{agent}" + path in document["paths"]
    assert "rate_limited" in document["components"]["schemas"]["Error"]["properties"][
        "error"]["properties"]["code"]["enum"]


def test_every_request_needs_a_valid_token(server: Server) -> None:
    with server.client() as anonymous:
        missing = anonymous.get(f"{A}/instances")
        wrong = anonymous.get(f"{A}/instances", headers={"Authorization": "Bearer adt_nope"})
        basic = anonymous.get(f"{A}/instances", headers={"Authorization": "Basic eDp5"})
    for answer in (missing, wrong, basic):
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"


def test_a_revoked_token_stops_working(server: Server) -> None:
    import agents_durable as ad
    from agents_durable.server import create_token, revoke_token

    async def make() -> tuple[str, str]:
        async with ad.Engine.open(server.db, worker=False) as engine:
            secret, record = await create_token(engine, agent_id="carol")
            return secret, record.id

    async def revoke(token_id: str) -> bool:
        async with ad.Engine.open(server.db, worker=False) as engine:
            return await revoke_token(engine, token_id)

    secret, token_id = anyio.run(make)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {secret}"}) as c:
        assert c.get("/v1/me").json()["agent_id"] == "carol"
        assert anyio.run(revoke, token_id)
        assert c.get("/v1/me").status_code == 401


def test_plans_validate_register_list_get(alice: httpx.Client) -> None:
    ok = alice.post(f"{A}/plans/validate", json={"source": QUICK}).json()
    assert ok == {"ok": True, "diagnostics": []}
    bad = alice.post(f"{A}/plans/validate", json={"source": INVALID}).json()
    assert bad["ok"] is False and bad["diagnostics"][0]["code"].startswith("ADP")
    rejected = alice.post(f"{A}/plans", json={"name": "bad", "source": INVALID})
    assert rejected.status_code == 422
    assert rejected.json()["error"]["code"] == "plan_rejected"
    assert rejected.json()["error"]["diagnostics"][0]["line"] == 2
    v2 = alice.post(f"{A}/plans", json={"name": "quick", "source": QUICK + "\n# v2\n"})
    assert v2.json()["version"] == 2
    listed = alice.get(f"{A}/plans").json()["items"]
    assert {(p["name"], p["version"]) for p in listed} >= {("approval", 1), ("quick", 1),
                                                           ("quick", 2)}
    assert all("source" not in p for p in listed)
    plan = alice.get(f"{A}/plans/quick").json()
    assert plan["version"] == 2 and plan["source"].endswith("# v2\n")
    assert [v["version"] for v in plan["versions"]] == [1, 2]
    assert plan["outline"][0]["name"] == "double"
    first = alice.get(f"{A}/plans/quick", params={"version": 1}).json()
    assert first["source"] == QUICK
    missing = alice.get(f"{A}/plans/nope")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "plan_not_found")


def test_instances_create_get_list_history(alice: httpx.Client) -> None:
    created = alice.post(f"{A}/instances", json={"plan": "quick", "params": {"n": 21},
                                                 "id": "q-1"})
    assert created.status_code == 201 and created.json()["id"] == "q-1"
    done = _wait_status(alice, f"{A}/instances/q-1", {"complete"})
    assert done["output"] == 42
    again = alice.post(f"{A}/instances", json={"plan": "quick", "id": "q-1"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "instance_exists")
    typo = alice.post(f"{A}/instances", json={"plan": "quick", "param": {}})
    assert typo.json()["error"]["code"] == "invalid_request"
    for n in range(3):
        alice.post(f"{A}/instances", json={"plan": "quick", "params": {"n": n},
                                           "id": f"page-{n}"})
    first = alice.get(f"{A}/instances", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = alice.get(f"{A}/instances", params={"limit": 50,
                                                "cursor": first["next_cursor"]}).json()
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) and {"q-1", "page-0", "page-2"} <= set(ids)
    _wait_status(alice, f"{A}/instances/page-2", {"complete"})
    complete = alice.get(f"{A}/instances", params={"status": "complete", "limit": 1000})
    assert all(i["status"] == "complete" for i in complete.json()["items"])
    wrong = alice.get(f"{A}/instances", params={"status": "completed"})
    assert wrong.json()["error"]["code"] == "invalid_request"
    history = alice.get(f"{A}/instances/q-1/history").json()
    assert [s["name"] for s in history["steps"]] == ["double"]
    assert history["status"]["status"] == "complete"


def test_create_batch_reports_each_item(alice: httpx.Client) -> None:
    answer = alice.post(f"{A}/instances/batch", json={"items": [
        {"plan": "quick", "params": {"n": 1}, "id": "b-1"},
        {"plan": "no-such-plan", "id": "b-2"},
        {"plan": "quick", "id": "b-1"},
        {"plan": "quick", "id": "bad id!"},
        "not an object",
    ]})
    assert answer.status_code == 201
    body = answer.json()
    assert (body["created"], body["failed"]) == (1, 4)
    codes = [item.get("error", {}).get("code") for item in body["items"]]
    assert codes == [None, "plan_not_found", "instance_exists", "invalid_request",
                     "invalid_request"]
    assert alice.get(f"{A}/instances/b-1").status_code == 200


def test_events_and_the_stream_from_start_to_terminal(alice: httpx.Client,
                                                      server: Server) -> None:
    alice.post(f"{A}/instances", json={"plan": "approval", "params": {"who": "ann"},
                                       "id": "s-1"})
    _wait_status(alice, f"{A}/instances/s-1", {"waiting"})
    messages: list[tuple[str, str, dict]] = []
    with server.client("alice") as streaming, streaming.stream(
            "GET", f"{A}/instances/s-1/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        sent = False
        block: dict[str, str] = {}
        for line in response.iter_lines():
            if line.startswith(":"):
                continue
            if line:
                key, _, value = line.partition(": ")
                block[key] = value
                continue
            messages.append((block["id"], block["event"], json.loads(block["data"])))
            block = {}
            if not sent and messages[-1][1] == "status":
                sent = True  # the replay is out: now deliver the event, watch it live
                answer = alice.post(f"{A}/instances/s-1/events/approve", json={"ok": "yes"})
                assert answer.status_code == 202
    kinds = [kind for _, kind, _ in messages]
    assert kinds[:3] == ["step", "log", "status"] or kinds[:3] == ["step", "status", "log"]
    assert messages[-1][1] == "status" and messages[-1][2]["status"] == "complete"
    assert messages[-1][2]["output"] == {"greeting": "hello ann", "approval": {"ok": "yes"}}
    assert "event" in kinds
    steps = [data["name"] for _, kind, data in messages if kind == "step"]
    assert steps == ["greet", "approval"]
    # a reconnect with the last id seen replays nothing but what came after it
    cursor = next(id for id, kind, data in messages if kind == "step"
                  and data["name"] == "greet")
    with server.client("alice") as again:
        text = again.get(f"{A}/instances/s-1/stream", params={"cursor": cursor}).text
    assert '"name":"greet"' not in text and '"name":"approval"' in text
    assert text.rstrip().splitlines()[-1].startswith("data: ")


def test_control_pause_resume_terminate_restart_delete(alice: httpx.Client) -> None:
    base = f"{A}/instances/c-1"
    alice.post(f"{A}/instances", json={"plan": "approval", "params": {"who": "x"},
                                       "id": "c-1"})
    _wait_status(alice, base, {"waiting"})
    assert alice.post(f"{base}/pause").json()["status"] == "paused"
    assert alice.post(f"{base}/resume").status_code == 202
    _wait_status(alice, base, {"waiting"})
    refused = alice.delete(base)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409,
                                                                      "instance_not_active")
    assert alice.post(f"{base}/terminate").json()["status"] == "terminated"
    late = alice.post(f"{base}/events/approve", json=None)
    assert late.json()["error"]["code"] == "instance_not_active"
    restarted = alice.post(f"{base}/restart", json={"from_step": "approval"})
    assert restarted.status_code == 202
    _wait_status(alice, base, {"waiting"})
    audit = alice.get(f"{base}/history").json()["audit"]
    assert [entry["action"] for entry in audit] == ["pause", "resume", "terminate",
                                                    "restart"]
    alice.post(f"{base}/terminate")
    assert alice.delete(base).status_code == 204
    gone = alice.get(base)
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "instance_not_found")
    assert alice.post(f"{base}/explode").status_code == 404


def test_tenancy_matrix_foreign_ids_answer_like_missing_ones(
        alice: httpx.Client, bob: httpx.Client, operator: httpx.Client) -> None:
    alice.post(f"{A}/instances", json={"plan": "approval", "id": "mine"})
    _wait_status(alice, f"{A}/instances/mine", {"waiting"})
    requests = [("GET", ""), ("GET", "/history"), ("GET", "/stream"), ("DELETE", ""),
                ("POST", "/pause"), ("POST", "/resume"), ("POST", "/terminate"),
                ("POST", "/restart"), ("POST", "/events/approve")]
    for method, suffix in requests:
        for agent in ("alice", "bob"):  # alice's path, and bob's own path with her id
            foreign = bob.request(method, f"/v1/agents/{agent}/instances/mine{suffix}",
                                  json={} if method == "POST" else None)
            missing = bob.request(method, f"/v1/agents/{agent}/instances/never{suffix}",
                                  json={} if method == "POST" else None)
            assert foreign.status_code == missing.status_code == 404, (method, suffix)
            assert foreign.json()["error"]["code"] == missing.json()["error"]["code"]
            assert foreign.json()["error"]["message"].replace("mine", "ID") == \
                missing.json()["error"]["message"].replace("never", "ID")
    for path in ("/instances", "/plans", "/plans/approval"):
        seen = bob.get(f"/v1/agents/alice{path}")
        nobody = bob.get(f"/v1/agents/no-such-agent{path}")
        assert seen.status_code == nobody.status_code == 404
        assert seen.json()["error"]["code"] == nobody.json()["error"]["code"]
    assert bob.get("/v1/agents").json() == {"items": [{"id": "bob"}]}
    assert bob.get("/v1/agents/bob/plans/approval").json()["error"]["code"] == \
        "plan_not_found"
    # alice's instance is untouched by all of that
    assert alice.get(f"{A}/instances/mine").json()["status"] == "waiting"
    assert operator.get(f"{A}/instances/mine").json()["status"] == "waiting"
    assert {"alice"} <= {a["id"] for a in operator.get("/v1/agents").json()["items"]}


def test_bad_bodies_get_clear_errors(alice: httpx.Client) -> None:
    huge = alice.post(f"{A}/instances", content=b"x" * (3 * 1024 * 1024),
                      headers={"content-type": "application/json"})
    assert (huge.status_code, huge.json()["error"]["code"]) == (413, "payload_too_large")
    broken = alice.post(f"{A}/instances", content=b'{"plan": ',
                        headers={"content-type": "application/json"})
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "invalid_json")
    form = alice.post(f"{A}/instances", data={"plan": "quick"})
    assert form.json()["error"]["code"] == "unsupported_media_type"
    not_object = alice.post(f"{A}/instances", json=["quick"])
    assert not_object.json()["error"]["code"] == "invalid_request"
    big_payload = alice.post(f"{A}/instances", json={"plan": "quick",
                                                     "params": "y" * (1024 * 1024 + 10)})
    assert big_payload.json()["error"]["code"] == "payload_too_large"
    nowhere = alice.get("/v1/nothing-here")
    assert (nowhere.status_code, nowhere.json()["error"]["code"]) == (404, "not_found")
    wrong_method = alice.put(f"{A}/instances")
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_metrics_parse_with_the_prometheus_parser(alice: httpx.Client,
                                                  operator: httpx.Client) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    alice.post(f"{A}/instances", json={"plan": "quick", "params": {"n": 5}, "id": "m-1"})
    _wait_status(alice, f"{A}/instances/m-1", {"complete"})
    assert alice.get("/metrics").json()["error"]["code"] == "forbidden"
    text = operator.get("/metrics").text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    instances = {(s.labels["agent"], s.labels["status"]): s.value
                 for s in families["agents_durable_instances"].samples}
    assert instances[("alice", "complete")] >= 1
    committed = [s for s in families["agents_durable_steps_committed"].samples
                 if s.name.endswith("_total") and s.labels["agent"] == "alice"]
    assert sum(s.value for s in committed) >= 1
    latency = [s for s in families["agents_durable_step_duration_seconds"].samples
               if s.name.endswith("_count")]
    assert sum(s.value for s in latency) >= 1
    for name in ("agents_durable_activation_failures", "agents_durable_runner_deaths",
                 "agents_durable_claim_lag_seconds", "agents_durable_store_errors"):
        assert name in families


def test_rate_limits_per_token(database: str) -> None:
    limited = start_server(another(database, "rate"), "--rate-limit", "0.01", "--rate-burst", "3",
                           who=("alice", "bob"))
    try:
        with limited.client("alice") as alice, limited.client("bob") as bob:
            answers = [alice.get("/v1/me") for _ in range(5)]
            assert [a.status_code for a in answers[:3]] == [200, 200, 200]
            assert answers[-1].status_code == 429
            assert answers[-1].json()["error"]["code"] == "rate_limited"
            assert int(answers[-1].headers["Retry-After"]) >= 1
            assert bob.get("/v1/me").status_code == 200  # another token has its own bucket
    finally:
        stop_server(limited)
        if database.startswith("postgresql://"):
            anyio.run(drop_schema, "rate_" + database.split("schema=", 1)[1].split("&")[0])
