"""The MCP server in process: result schemas, failures as data, long results cut and said so."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from mcp import Client, MCPError

import agents_durable as ad
from agents_durable.agents import PlanToolkit
from agents_durable.mcp import build_server, cap_result
from tests.mcp.support import tool_data

pytestmark = pytest.mark.anyio

BIG_PLAN = '''"""Make results far larger than a model's context should hold."""


async def run(event, step):
    for n in range(40):
        print("line", n, "x" * 300)
    blob = await step.do("make blob", lambda: "y" * 50000)
    for n in range(30):
        await step.do("small", lambda: n)
    return {"blob": blob}
'''


def client_for(toolkit: PlanToolkit, max_result_chars: int = 20_000) -> Client:
    return Client(build_server(lambda ctx: toolkit, max_result_chars=max_result_chars))


async def test_every_result_fits_its_output_schema(engine: ad.Engine) -> None:
    toolkit = PlanToolkit(engine, "schemas")
    async with client_for(toolkit) as client:
        schemas = {t.name: t.output_schema for t in (await client.list_tools()).tools}
        calls: list[tuple[str, dict[str, Any]]] = [
            ("check_plan", {"source": "import os"}),
            ("check_plan", {"source": BIG_PLAN}),
            ("submit_plan", {"name": "big", "source": BIG_PLAN}),
            ("start_plan", {"name": "big", "id": "big-1"}),
            ("start_plan", {"name": "big", "id": "big-1"}),
            ("plan_status", {"instance_id": "big-1", "wait_seconds": 20}),
            ("plan_history", {"instance_id": "big-1"}),
            ("send_plan_event", {"instance_id": "big-1", "type": "late"}),
            ("list_plans", {}), ("list_instances", {"status": "complete"}),
            ("list_instances", {"status": "finished"}),
        ]
        outcomes = []
        for name, arguments in calls:
            data = tool_data(await client.call_tool(name, arguments))
            schema = schemas[name]
            assert schema is not None
            jsonschema.validate(data, schema)  # failures too, which clients do not check
            outcomes.append("ok" if data["ok"] else data["error"])
    assert outcomes == ["invalid_plan", "ok", "ok", "ok", "already_exists", "ok", "ok",
                        "not_active", "ok", "ok", "invalid_argument"]


async def test_long_results_are_cut_and_say_so(engine: ad.Engine) -> None:
    toolkit = PlanToolkit(engine, "big")
    await toolkit.submit_plan("big", BIG_PLAN)
    await toolkit.start_plan("big", id="big-1")
    async with client_for(toolkit, max_result_chars=5_000) as client:
        status = tool_data(await client.call_tool(
            "plan_status", {"instance_id": "big-1", "wait_seconds": 20}))
        history = tool_data(await client.call_tool("plan_history", {"instance_id": "big-1"}))
        resource = await client.read_resource("agents-durable://instances/big-1/history")
    assert status["status"] == "complete"
    assert status["output"].startswith("[cut: 50,")  # the preview says how large it was
    assert "output" in status["truncated"]
    assert len(json.dumps(history)) < 6_000
    assert "steps[0].result" in history["truncated"]
    assert "logs: only the last" in history["truncated"]
    assert history["logs"][-1]["line"].startswith("line 39")  # the newest lines stay
    assert history["status"] == "complete"
    assert json.loads(resource.contents[0].text)["truncated"]  # type: ignore[union-attr]
    # The host still has everything: only what the model is shown is cut.
    full = await (await toolkit.scope.get("big-1")).history()
    assert len(full.logs) == 40


async def test_a_short_result_is_not_touched(engine: ad.Engine) -> None:
    async with client_for(PlanToolkit(engine, "small")) as client:
        data = tool_data(await client.call_tool("list_plans", {}))
    assert data == {"ok": True, "plans": []}


def test_cap_result_keeps_the_end_of_journals_and_the_start_of_listings() -> None:
    data: dict[str, Any] = {"steps": [{"n": n, "result": "r" * 50} for n in range(200)],
            "instances": [{"n": n} for n in range(200)]}
    capped, note = cap_result(data, 2_000)
    assert len(json.dumps(capped)) <= 2_000
    assert capped["steps"][-1]["n"] == 199
    assert note is not None and "steps: only the last" in note
    assert data["steps"][0]["n"] == 0 and len(data["steps"]) == 200  # the input is untouched


async def test_unknown_prompt_and_missing_plan_resource(engine: ad.Engine) -> None:
    async with client_for(PlanToolkit(engine, "a")) as client:
        with pytest.raises(MCPError, match="the prompt is 'instructions'"):
            await client.get_prompt("nope")
        with pytest.raises(MCPError, match="submit_plan"):
            await client.read_resource("agents-durable://plans/a%2Fb/outline")
        prompt = await client.get_prompt("instructions")
    assert "async def run(event, step)" in prompt.messages[0].content.text  # type: ignore[union-attr]


def test_readme_mcp_configuration_is_a_valid_command_line() -> None:
    from agents_durable.cli import _parser
    from tests.mcp.support import ROOT

    text = (ROOT / "README.md").read_text()
    section = text[text.index("## An MCP server"):]
    config = json.loads(section[section.index("```json\n") + 8:section.index("```\n", 1)])
    server = config["mcpServers"]["agents-durable"]
    assert server["command"].endswith("/bin/agents-durable")
    args = _parser().parse_args(server["args"])
    assert (args.command, args.agent, args.worker) == ("mcp", "support-bot", True)
    assert args.tools.endswith(".py:register_gallery_tools")
