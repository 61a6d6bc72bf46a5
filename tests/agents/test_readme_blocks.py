"""The README's toolkit section runs as written, with each framework's scripted model."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from agents import set_tracing_disabled
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.agents.scenario import ScriptedAuthor, ToolCall
from tests.agents.test_langchain import ScriptedChatModel
from tests.agents.test_openai_agents import ScriptedModel

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
ORDER_PLAN = (ROOT / "plans" / "order_followup.py").read_text()


def toolkit_section_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Giving an agent the toolkit")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], re.S)


class PlanLister(ScriptedAuthor):
    """A model that lists its plans, then answers with their names."""

    def next_action(self, last_result: dict[str, Any] | None) -> ToolCall | str:
        if last_result is None:
            return ToolCall("list_plans", {})
        self.results.append(last_result)
        return "plans: " + ",".join(plan["name"] for plan in last_result["plans"])


def pydantic_ai_model(author: ScriptedAuthor) -> FunctionModel:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = [p for p in messages[-1].parts if isinstance(p, ToolReturnPart)]
        action = author.next_action(
            json.loads(returns[0].model_response_str()) if returns else None)
        if isinstance(action, str):
            return ModelResponse(parts=[TextPart(action)])
        return ModelResponse(parts=[ToolCallPart(action.name, action.arguments,
                                                 tool_call_id="call-1")])

    return FunctionModel(respond)


async def test_toolkit_section_runs(tmp_path: Path) -> None:
    set_tracing_disabled(True)
    blocks = toolkit_section_blocks()
    assert len(blocks) == 4
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)

    async with ad.Engine.open(tmp_path / "readme.db", clock=FakeClock()) as engine:
        engine.tools.register("orders.get", lambda order_id: {"id": order_id})
        engine.tools.register("tickets.open", lambda order_id, reason: {"ticket": 1})

        started = await namespace["start_with_toolkit"](engine, ORDER_PLAN)
        assert started["ok"] is True
        assert started["instance_id"] == "order-8"
        rejected = await namespace["start_with_toolkit"](engine, "import time\n" + ORDER_PLAN)
        assert rejected["error"] == "invalid_plan"
        assert "ADP201" in [d["code"] for d in rejected["diagnostics"]]

        answers = [
            await namespace["ask_pydantic_ai"](engine, pydantic_ai_model(PlanLister()), "?"),
            await namespace["ask_openai_agents"](engine, ScriptedModel(PlanLister()), "?"),
            await namespace["ask_langchain"](engine, ScriptedChatModel(author=PlanLister()),
                                             "?"),
        ]
    assert answers == ["plans: order-followup"] * 3
