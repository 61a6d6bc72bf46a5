"""The shared scenario through the OpenAI Agents SDK, with a scripted ``Model``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from agents import Agent, Model, ModelResponse, Runner, Tool, set_tracing_disabled
from agents.usage import Usage
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

import agents_durable as ad
from agents_durable.agents import PlanToolkit
from agents_durable.agents.openai_agents import plan_function_tools
from tests.agents import scenario

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def no_tracing() -> None:
    set_tracing_disabled(True)


class ScriptedModel(Model):
    """An Agents SDK model whose every answer comes from a :class:`ScriptedAuthor`."""

    def __init__(self, author: scenario.ScriptedAuthor) -> None:
        self.author = author
        self.instructions: list[str | None] = []
        self.tool_names: list[str] = []
        self.turn = 0

    def _output(self, system_instructions: str | None, input: Any, tools: list[Any]) -> list[Any]:
        self.turn += 1
        self.instructions.append(system_instructions)
        self.tool_names = sorted(tool.name for tool in tools)
        last = None
        if isinstance(input, list) and input and input[-1].get("type") == "function_call_output":
            last = json.loads(input[-1]["output"])  # the text the tool returned
        action = self.author.next_action(last)
        if isinstance(action, str):
            return [ResponseOutputMessage(
                id=f"msg-{self.turn}", type="message", role="assistant", status="completed",
                content=[ResponseOutputText(type="output_text", text=action, annotations=[])])]
        return [ResponseFunctionToolCall(
            id=f"fc-{self.turn}", call_id=f"call-{self.turn}", type="function_call",
            name=action.name, arguments=json.dumps(action.arguments), status="completed")]

    async def get_response(self, system_instructions: str | None, input: Any,
                           model_settings: Any, tools: list[Any], output_schema: Any,
                           handoffs: list[Any], tracing: Any, *,
                           previous_response_id: str | None, conversation_id: str | None,
                           prompt: Any) -> ModelResponse:
        return ModelResponse(output=self._output(system_instructions, input, tools),
                             usage=Usage(), response_id=None)

    async def stream_response(self, system_instructions: str | None, input: Any,
                              model_settings: Any, tools: list[Any], output_schema: Any,
                              handoffs: list[Any], tracing: Any, *,
                              previous_response_id: str | None, conversation_id: str | None,
                              prompt: Any) -> AsyncIterator[Any]:
        output = self._output(system_instructions, input, tools)
        response = Response(id=f"resp-{self.turn}", created_at=0, model="scripted",
                            object="response", output=output, tool_choice="auto", tools=[],
                            parallel_tool_calls=False, status="completed")
        yield ResponseCompletedEvent(type="response.completed", response=response,
                                     sequence_number=0)


def make_agent(engine: ad.Engine) -> tuple[PlanToolkit, ScriptedModel, Agent[Any]]:
    engine.tools.register(scenario.TOOL_NAME, scenario.compose_greeting)
    toolkit = PlanToolkit(engine, scenario.AGENT_ID, tools=[scenario.TOOL_NAME])
    model = ScriptedModel(scenario.ScriptedAuthor())
    tools: list[Tool] = [*plan_function_tools(toolkit)]
    agent = Agent(name="planner", instructions=toolkit.instructions(), model=model,
                  tools=tools)
    return toolkit, model, agent


async def test_scenario_with_openai_agents(engine: ad.Engine) -> None:
    toolkit, model, agent = make_agent(engine)

    result = await Runner.run(agent, scenario.USER_PROMPT, max_turns=12)

    await scenario.assert_scenario_completed(model.author, result.final_output, toolkit)
    assert model.tool_names == sorted(f.name for f in toolkit.functions())
    assert "async def run(event, step)" in (model.instructions[0] or "")


async def test_scenario_with_openai_agents_streamed(engine: ad.Engine) -> None:
    toolkit, model, agent = make_agent(engine)

    run = Runner.run_streamed(agent, scenario.USER_PROMPT, max_turns=12)
    async for _ in run.stream_events():
        pass

    await scenario.assert_scenario_completed(model.author, run.final_output, toolkit)


async def test_free_form_objects_are_not_strict_and_the_rest_is(engine: ad.Engine) -> None:
    tools = {tool.name: tool for tool in plan_function_tools(PlanToolkit(engine, "a"))}
    assert {name for name, tool in tools.items() if not tool.strict_json_schema} == {
        "start_plan", "send_plan_event"}
    assert tools["check_plan"].params_json_schema["required"] == ["source"]
    assert tools["check_plan"].params_json_schema["additionalProperties"] is False
