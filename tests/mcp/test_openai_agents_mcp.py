"""An agent framework consumes the server through its own MCP client: the OpenAI Agents SDK.

``agents.mcp.MCPServerStdio`` launches ``agents-durable mcp`` as a subprocess, lists its
tools for the model and calls them; a scripted model plays the shared scenario (a flawed
draft, the fix, a run to completion) from the tool results it is shown. The Agents SDK's
MCP client is built on the official ``mcp`` SDK, so this needs nothing beyond the test
extra (Pydantic AI's MCP client needs FastMCP, which is not a dependency here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from agents import Agent, Runner, set_tracing_disabled
from agents.mcp import MCPServerStdio

import agents_durable as ad
from agents_durable.agents import PlanToolkit
from tests.agents import scenario
from tests.agents.test_openai_agents import ScriptedModel
from tests.mcp.support import ROOT, server_command

pytestmark = pytest.mark.anyio


class McpScriptedModel(ScriptedModel):
    """The scripted model, reading an MCP tool's output as the Agents SDK passes it on.

    For an MCP tool the SDK hands the model the result's content blocks
    (``[{"type": "input_text", "text": ...}]``) rather than one string.
    """

    def _output(self, system_instructions: str | None, input: Any, tools: list[Any]
                ) -> list[Any]:
        if isinstance(input, list) and input and input[-1].get("type") == "function_call_output":
            output = input[-1]["output"]
            if isinstance(output, list):
                text = "".join(part["text"] for part in output if part.get("type") == "input_text")
                input = [*input[:-1], {**input[-1], "output": text}]
        return super()._output(system_instructions, input, tools)


async def test_scenario_through_the_agents_sdk_mcp_client(tmp_path: Path) -> None:
    set_tracing_disabled(True)
    db = tmp_path / "plans.db"
    command, *args = server_command(db, scenario.AGENT_ID, worker=True)
    async with MCPServerStdio({"command": command, "args": args, "cwd": str(ROOT)},
                              name="agents-durable",
                              client_session_timeout_seconds=30) as server:
        prompt = await server.get_prompt("instructions")
        instructions = prompt.messages[0].content.text
        model = McpScriptedModel(scenario.ScriptedAuthor())
        agent = Agent(name="planner", instructions=instructions, model=model,
                      mcp_servers=[server])
        result = await Runner.run(agent, scenario.USER_PROMPT, max_turns=12)

    assert model.tool_names == ["check_plan", "list_instances", "list_plans", "plan_history",
                                "plan_status", "send_plan_event", "start_plan", "submit_plan",
                                "upgrade_instances"]
    assert "tools.greetings.compose(name: str, door: str) -> str" in (
        model.instructions[0] or "")
    # The server is gone; what it did is in the database, as any client sees it.
    async with ad.Engine.open(db, worker=False) as engine:
        toolkit = PlanToolkit(engine, scenario.AGENT_ID)
        await scenario.assert_scenario_completed(model.author, result.final_output, toolkit)
        history = await (await toolkit.scope.get(scenario.INSTANCE_ID)).history()
    assert [e.type for e in history.events] == [scenario.EVENT_TYPE]
