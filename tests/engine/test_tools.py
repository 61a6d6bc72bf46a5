"""The tool registry as a host developer uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

import agents_durable as ad


def test_tool_signature_reads_plainly_under_postponed_annotations() -> None:
    # This module has ``from __future__ import annotations``: annotations are strings.
    def lookup(order_id: int, verbose: bool = False) -> dict[str, int]:
        """Look up an order."""
        return {}

    spec = ad.engine.ToolRegistry().register("orders.lookup", lookup)
    assert spec.signature == "(order_id: int, verbose: bool = False) -> dict[str, int]"
    assert spec.description == "Look up an order."


@pytest.mark.anyio
async def test_an_agents_scope_got_again_without_tools_keeps_its_grants(
        tmp_path: Path) -> None:
    """``engine.agent(id)`` elsewhere in a program (a notebook cell, a handler) must not take
    away the tools granted at setup; ``tools=[]`` does, on purpose."""
    plan = "async def run(event, step):\n    return await step.do('x', lambda: tools.x(2))\n"
    async with ad.Engine.open(tmp_path / "t.db") as engine:
        engine.tools.register("x", lambda n: n * 21)
        await engine.agent("ops", tools=["x"]).register_plan("p", plan)
        again = engine.agent("ops")
        assert again.tools == frozenset({"x"})
        assert (await (await again.create("p")).wait(timeout=10)).output == 42
        assert engine.agent("ops", tools=[]).tools == frozenset()
        assert engine.agent("ops").tools == frozenset()
