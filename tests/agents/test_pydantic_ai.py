"""The shared scenario through Pydantic AI, with a scripted ``FunctionModel``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

import agents_durable as ad
from agents_durable.agents import PlanToolkit
from agents_durable.agents.pydantic_ai import plan_toolset
from tests.agents import scenario

pytestmark = pytest.mark.anyio


def scripted_model(author: scenario.ScriptedAuthor, seen: dict[str, Any]) -> FunctionModel:
    """A FunctionModel that shows the author the last tool result, as a provider would."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen["tools"] = sorted(tool.name for tool in info.function_tools)
        request = messages[-1]
        assert isinstance(request, ModelRequest)
        seen.setdefault("instructions", request.instructions)
        last = None
        for part in request.parts:
            if isinstance(part, ToolReturnPart) and part.outcome == "retried":
                last = {"ok": False, "error": "retried", "message": str(part.content)}
            elif isinstance(part, ToolReturnPart):
                last = json.loads(part.model_response_str())  # the JSON a provider sends
        action = author.next_action(last)
        if isinstance(action, str):
            return ModelResponse(parts=[TextPart(action)])
        return ModelResponse(parts=[ToolCallPart(action.name, action.arguments,
                                                 tool_call_id=f"call-{len(author.results)}")])

    return FunctionModel(respond)


async def test_scenario_with_pydantic_ai(engine: ad.Engine) -> None:
    engine.tools.register(scenario.TOOL_NAME, scenario.compose_greeting)
    toolkit = PlanToolkit(engine, scenario.AGENT_ID, tools=[scenario.TOOL_NAME])
    author = scenario.ScriptedAuthor()
    seen: dict[str, Any] = {}
    agent = Agent(scripted_model(author, seen), toolsets=[plan_toolset(toolkit)],
                  instructions=toolkit.instructions())

    result = await agent.run(scenario.USER_PROMPT)

    await scenario.assert_scenario_completed(author, result.output, toolkit)
    assert seen["tools"] == sorted(f.name for f in toolkit.functions())
    assert "async def run(event, step)" in seen["instructions"]
    assert "tools.greetings.compose(name: str, door: str) -> str" in seen["instructions"]


async def test_malformed_arguments_take_pydantic_ai_retry_path(engine: ad.Engine) -> None:
    toolkit = PlanToolkit(engine, scenario.AGENT_ID)
    calls: list[ModelResponse] = [
        ModelResponse(parts=[ToolCallPart("plan_status", {"instance": "x"}, tool_call_id="1")]),
        ModelResponse(parts=[TextPart("giving up")]),
    ]
    shown: list[ToolReturnPart] = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        request = messages[-1]
        assert isinstance(request, ModelRequest)
        shown.extend(part for part in request.parts if isinstance(part, ToolReturnPart))
        return calls.pop(0)

    agent = Agent(FunctionModel(respond), toolsets=[plan_toolset(toolkit)])
    result = await agent.run("status of x")
    assert result.output == "giving up"
    assert [part.outcome for part in shown] == ["retried"]
    assert "instance_id" in shown[0].model_response_str()  # names the missing argument
