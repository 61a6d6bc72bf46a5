"""Traces and logs of the engine's work: spans only for work that ran, never for replays;
JSON log lines that name the agent and instance."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytest.importorskip("prometheus_client")
sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
export = pytest.importorskip("opentelemetry.sdk.trace.export")

pytestmark = pytest.mark.anyio

PLAN = '''async def run(event, step):
    first = await step.do("first", lambda: 1)
    await step.sleep("nap", "1 hour")
    second = await step.do("second", lambda: tools.lookup(first))
    return second
'''


def _tracing() -> tuple[Any, Any]:
    """An in-memory span exporter and the tracer provider that feeds it."""
    exporter = in_memory.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    return exporter, provider


async def _traced_run(tmp_path: Path, clock: FakeClock, isolation: str, provider: Any,
                      tool: Any, plan: str, id: str, later: str) -> tuple[Any, Any]:
    """Run ``plan`` (its one tool, ``tool``, granted) as instance ``id`` under a ``Metrics``
    observer that traces to ``provider``, advancing the clock by ``later`` once it
    settled; the observer and the instance's output."""
    from agents_durable.server import Metrics

    async with ad.Engine.open(tmp_path / "t.db", clock=clock, isolation=isolation) as engine:
        metrics = Metrics(tracer=provider.get_tracer("test"))
        engine.observer = metrics
        engine.tools.register(tool.__name__, tool)
        agent = engine.agent("tracer", tools=[tool.__name__])
        await agent.register_plan("p", plan)
        instance = await agent.create("p", id=id)
        await clock.settle()
        await clock.advance(later)
        return metrics, (await instance.wait(timeout=20)).output


@pytest.mark.parametrize("isolation", ["inline", "process"])
async def test_replayed_steps_emit_no_spans_and_logs_carry_the_instance(
        tmp_path: Path, clock: FakeClock, isolation: str) -> None:
    """The same spans whether plan code runs in the engine or in a runner process (which
    tells the engine of its step attempts; the engine opens their spans and runs their
    tool calls inside them)."""
    from agents_durable.server import JsonFormatter

    exporter, provider = _tracing()
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    tool_log = logging.getLogger("agents_durable.test_tool")
    tool_log.addHandler(handler)
    tool_log.setLevel(logging.INFO)

    def lookup(value: int) -> int:
        tool_log.info("looking up %d", value)
        return value + 41

    try:
        metrics, output = await _traced_run(tmp_path, clock, isolation, provider, lookup,
                                            PLAN, "traced", "1 hour")
        assert output == 42
    finally:
        tool_log.removeHandler(handler)
    names = [span.name for span in exporter.get_finished_spans()]
    # two activations; "first" ran in the first one and was only replayed in the second
    assert sorted(names) == ["activation", "activation", "step first", "step second",
                             "tool lookup"]
    spans = {span.name: span for span in exporter.get_finished_spans()}
    tool_span, step_span = spans["tool lookup"], spans["step second"]
    assert tool_span.attributes["agents_durable.instance"] == "traced"
    assert step_span.attributes["agents_durable.attempt"] == 1
    # the tool call inside its step, the step inside its activation
    assert tool_span.parent.span_id == step_span.context.span_id
    activation_ids = {s.context.span_id for s in exporter.get_finished_spans()
                      if s.name == "activation"}
    assert step_span.parent.span_id in activation_ids
    entry = json.loads(lines[0])
    assert (entry["message"], entry["agent"], entry["instance"]) == ("looking up 1", "tracer",
                                                                      "traced")
    activations = metrics.registry.get_sample_value("agents_durable_activations_total",
                                                    {"agent": "tracer"})
    assert activations == 2


FLAKY = '''async def run(event, step):
    return await step.do("flaky", lambda: tools.flaky(),
                         retries={"limit": 2, "delay": "1 second"})
'''


@pytest.mark.parametrize("isolation", ["inline", "process"])
async def test_a_failed_attempt_is_a_span_with_an_error_and_the_retry_a_second_span(
        tmp_path: Path, clock: FakeClock, isolation: str) -> None:
    exporter, provider = _tracing()
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("the first call fails")
        return "ok"

    _, output = await _traced_run(tmp_path, clock, isolation, provider, flaky, FLAKY,
                                  "flaky", "1 second")
    assert output == "ok"
    attempts = sorted((s for s in exporter.get_finished_spans() if s.name == "step flaky"),
                      key=lambda s: s.attributes["agents_durable.attempt"])
    assert [s.attributes["agents_durable.attempt"] for s in attempts] == [1, 2]
    assert [s.status.is_ok for s in attempts] == [False, True]
    assert "first call fails" in (attempts[0].status.description or "")
    tools = [s for s in exporter.get_finished_spans() if s.name == "tool flaky"]
    assert sorted(t.parent.span_id for t in tools) == sorted(
        s.context.span_id for s in attempts)
