"""The official MCP client drives ``agents-durable mcp`` in a subprocess, over stdio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError

from agents_durable.agents import (
    CheckPlanInput,
    PlanHistoryInput,
    SendPlanEventInput,
    StartPlanInput,
)
from tests.agents import scenario
from tests.mcp.support import resource_text, stdio_server, tool_data

pytestmark = pytest.mark.anyio

TOOLS = ["check_plan", "submit_plan", "start_plan", "plan_status", "plan_history",
         "send_plan_event", "list_plans", "list_instances", "upgrade_instances"]
PLAN_URI = f"agents-durable://plans/{scenario.PLAN_NAME}"
INSTANCE_URI = f"agents-durable://instances/{scenario.INSTANCE_ID}"


async def test_author_run_and_watch_a_plan_over_stdio(tmp_path: Path) -> None:
    async with Client(stdio_server(tmp_path / "plans.db", scenario.AGENT_ID,
                                   worker=True)) as client:
        assert "load the prompt 'instructions'" in (client.instructions or "")
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert list(tools) == TOOLS
        for name, model in (("check_plan", CheckPlanInput), ("start_plan", StartPlanInput),
                            ("plan_history", PlanHistoryInput),
                            ("send_plan_event", SendPlanEventInput)):
            assert tools[name].input_schema == model.model_json_schema()
        assert tools["plan_status"].output_schema is not None
        assert tools["plan_status"].annotations is not None
        assert tools["plan_status"].annotations.read_only_hint is True

        prompts = (await client.list_prompts()).prompts
        assert [p.name for p in prompts] == ["instructions"]
        prompt = await client.get_prompt("instructions")
        text = prompt.messages[0].content
        assert "async def run(event, step)" in getattr(text, "text", "")
        assert "tools.greetings.compose(name: str, door: str) -> str" in getattr(text, "text", "")

        # A flawed plan is a result the model reads, with the diagnostic to fix.
        rejected = await client.call_tool("check_plan", {"source": scenario.FLAWED_PLAN})
        data = tool_data(rejected)
        assert rejected.is_error and data["error"] == "invalid_plan"
        assert "ADP201" in scenario.diagnostic_codes(data)
        assert tool_data(await client.call_tool("check_plan",
                                                {"source": scenario.FIXED_PLAN}))["ok"]
        submitted = tool_data(await client.call_tool(
            "submit_plan", {"name": scenario.PLAN_NAME, "source": scenario.FIXED_PLAN}))
        assert submitted["version"] == 1
        started = tool_data(await client.call_tool(
            "start_plan", {"name": scenario.PLAN_NAME, "params": scenario.PARAMS,
                           "id": scenario.INSTANCE_ID}))
        assert started["instance_id"] == scenario.INSTANCE_ID

        uris = {r.uri for r in (await client.list_resources()).resources}
        assert {PLAN_URI, f"{PLAN_URI}/outline", INSTANCE_URI,
                f"{INSTANCE_URI}/history"} <= uris
        templates = (await client.list_resource_templates()).resource_templates
        assert len(templates) == 4
        assert resource_text(await client.read_resource(PLAN_URI)) == scenario.FIXED_PLAN
        outline = json.loads(resource_text(await client.read_resource(f"{PLAN_URI}/outline")))
        assert [e["name"] for e in outline["outline"]] == ["guest arrives",
                                                            "compose greeting"]

        sent = tool_data(await client.call_tool(
            "send_plan_event", {"instance_id": scenario.INSTANCE_ID,
                                "type": scenario.EVENT_TYPE, "payload": scenario.EVENT_PAYLOAD}))
        assert sent["ok"]
        status = tool_data(await client.call_tool(
            "plan_status", {"instance_id": scenario.INSTANCE_ID, "wait_seconds": 20}))
        assert status["status"] == "complete"
        assert status["output"] == scenario.EXPECTED_OUTPUT

        history = tool_data(await client.call_tool(
            "plan_history", {"instance_id": scenario.INSTANCE_ID}))
        assert [s["name"] for s in history["steps"]] == ["guest arrives", "compose greeting"]
        assert history["steps"][1]["result"] == scenario.EXPECTED_OUTPUT["greeting"]
        assert [(e["type"], e["consumed"]) for e in history["events"]] == [
            (scenario.EVENT_TYPE, True)]
        assert json.loads(resource_text(await client.read_resource(
            f"{INSTANCE_URI}/history"))) == history
        assert json.loads(resource_text(await client.read_resource(INSTANCE_URI)))[
            "status"] == "complete"

        # A malformed argument is a result too, naming what to fix.
        malformed = tool_data(await client.call_tool("plan_status", {"instance": "x"}))
        assert malformed["error"] == "invalid_argument"
        assert "instance_id" in malformed["message"]
        with pytest.raises(MCPError, match="no resource"):
            await client.read_resource("agents-durable://elsewhere/x")


def _masked(value: Any, *secrets: str) -> str:
    """A result's JSON with the probed id or name replaced, to compare two answers."""
    text = json.dumps(value, sort_keys=True)
    for secret in secrets:
        text = text.replace(secret, "<probe>")
    return text


async def _answer(client: Client, kind: str, target: str) -> str:
    """What ``client`` gets for one probe of ``target`` (an instance id or plan name)."""
    if kind.startswith("agents-durable://"):
        try:
            await client.read_resource(kind.format(target))
        except MCPError as exc:
            return _masked({"code": exc.code, "message": exc.message, "data": exc.data},
                           target)
        raise AssertionError(f"{kind.format(target)} was readable")
    args = {"start_plan": {"name": target},
            "send_plan_event": {"instance_id": target, "type": scenario.EVENT_TYPE}
            }.get(kind, {"instance_id": target})
    result = await client.call_tool(kind, args)
    assert result.is_error
    return _masked(tool_data(result), target)


#: Every way to reach an instance or a plan: (tool or resource URI template, what it names).
PROBES = [("plan_status", scenario.INSTANCE_ID), ("plan_history", scenario.INSTANCE_ID),
          ("send_plan_event", scenario.INSTANCE_ID), ("start_plan", scenario.PLAN_NAME),
          ("agents-durable://instances/{}", scenario.INSTANCE_ID),
          ("agents-durable://instances/{}/history", scenario.INSTANCE_ID),
          ("agents-durable://plans/{}", scenario.PLAN_NAME),
          ("agents-durable://plans/{}/outline", scenario.PLAN_NAME)]


async def test_tenancy_two_servers_on_one_database(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    async with Client(stdio_server(db, "agent-a", worker=True)) as a, \
            Client(stdio_server(db, "agent-b")) as b:
        tool_data(await a.call_tool("submit_plan", {"name": scenario.PLAN_NAME,
                                                    "source": scenario.FIXED_PLAN}))
        tool_data(await a.call_tool("start_plan", {"name": scenario.PLAN_NAME,
                                                   "params": scenario.PARAMS,
                                                   "id": scenario.INSTANCE_ID}))
        for probe, target in PROBES:
            # B's view of A's instance or plan is exactly its view of one nobody made.
            assert await _answer(b, probe, target) == await _answer(b, probe, "never-made"), \
                probe
            assert "<probe>" in await _answer(b, probe, target)  # the answer names it
        assert tool_data(await b.call_tool("list_plans", {}))["plans"] == []
        assert tool_data(await b.call_tool("list_instances", {}))["instances"] == []
        assert (await b.list_resources()).resources == []

        # B's ids are its own: the same id names a different instance of B's.
        tool_data(await b.call_tool("submit_plan", {"name": "mine",
                                                    "source": scenario.FIXED_PLAN}))
        mine = tool_data(await b.call_tool("start_plan", {"name": "mine",
                                                          "id": scenario.INSTANCE_ID}))
        assert mine["plan"] == "mine"
        # A's instance saw none of it: still waiting, no event, its own plan.
        status = tool_data(await a.call_tool("plan_status",
                                             {"instance_id": scenario.INSTANCE_ID}))
        assert status["plan"] == scenario.PLAN_NAME
        history = tool_data(await a.call_tool("plan_history",
                                              {"instance_id": scenario.INSTANCE_ID}))
        assert history["events"] == []
        assert [i["plan"] for i in tool_data(await a.call_tool(
            "list_instances", {}))["instances"]] == [scenario.PLAN_NAME]
