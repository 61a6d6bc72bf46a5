"""The shared scenario through LangChain: a scripted chat model and a short tool loop."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

import agents_durable as ad
from agents_durable.agents import PlanToolkit
from agents_durable.agents.langchain import plan_structured_tools
from tests.agents import scenario

pytestmark = pytest.mark.anyio


class ScriptedChatModel(BaseChatModel):
    """A chat model whose every answer comes from a :class:`ScriptedAuthor`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    author: scenario.ScriptedAuthor
    seen: dict[str, Any] = Field(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.seen["tools"] = sorted(t["function"]["name"] for t in kwargs.get("tools", []))
        self.seen.setdefault("system", messages[0].content)
        last = messages[-1]
        result = json.loads(str(last.content)) if isinstance(last, ToolMessage) else None
        action = self.author.next_action(result)
        if isinstance(action, str):
            message = AIMessage(content=action)
        else:
            message = AIMessage(content="", tool_calls=[{
                "name": action.name, "args": action.arguments, "type": "tool_call",
                "id": f"call-{len(self.author.results)}"}])
        return ChatResult(generations=[ChatGeneration(message=message)])


async def run_tool_loop(model: ScriptedChatModel, tools: Sequence[BaseTool], system: str,
                        user: str, max_turns: int = 12) -> tuple[str, list[ToolMessage]]:
    """Call the model, run the tools it asks for, repeat until it answers in text."""
    by_name = {tool.name: tool for tool in tools}
    bound = model.bind_tools(tools)
    messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(user)]
    tool_messages: list[ToolMessage] = []
    for _ in range(max_turns):
        reply = await bound.ainvoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            return str(reply.content), tool_messages
        for call in reply.tool_calls:
            tool_message = await by_name[call["name"]].ainvoke(call)
            tool_messages.append(tool_message)
            messages.append(tool_message)
    raise AssertionError("the model never gave a final answer")


async def test_scenario_with_langchain(engine: ad.Engine) -> None:
    engine.tools.register(scenario.TOOL_NAME, scenario.compose_greeting)
    toolkit = PlanToolkit(engine, scenario.AGENT_ID, tools=[scenario.TOOL_NAME])
    model = ScriptedChatModel(author=scenario.ScriptedAuthor())

    answer, tool_messages = await run_tool_loop(model, plan_structured_tools(toolkit),
                                                toolkit.instructions(), scenario.USER_PROMPT)

    await scenario.assert_scenario_completed(model.author, answer, toolkit)
    assert model.seen["tools"] == sorted(f.name for f in toolkit.functions())
    assert "async def run(event, step)" in model.seen["system"]
    # The artifact carries the same result as a dict for application code.
    assert tool_messages[0].artifact["diagnostics"][0]["code"] == "ADP201"
    assert tool_messages[-1].artifact["output"] == scenario.EXPECTED_OUTPUT


async def test_invalid_arguments_come_back_as_a_failure(engine: ad.Engine) -> None:
    tools = {tool.name: tool for tool in plan_structured_tools(PlanToolkit(engine, "a"))}
    message = await tools["plan_status"].ainvoke(
        {"name": "plan_status", "args": {"instance": "x"}, "id": "1", "type": "tool_call"})
    result = json.loads(str(message.content))
    assert result["ok"] is False
    assert result["error"] == "invalid_argument"
    assert "instance_id" in result["message"]
