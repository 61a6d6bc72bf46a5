"""Traces and logs of the engine's work: spans only for work that ran, never for replays;
JSON log lines that name the agent and instance."""

from __future__ import annotations

import json
import logging
from pathlib import Path

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


async def test_replayed_steps_emit_no_spans_and_logs_carry_the_instance(
        tmp_path: Path, clock: FakeClock) -> None:
    from agents_durable.server import JsonFormatter, Metrics

    exporter = in_memory.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
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
        async with ad.Engine.open(tmp_path / "t.db", clock=clock) as engine:
            metrics = Metrics(tracer=provider.get_tracer("test"))
            engine.observer = metrics
            engine.tools.register("lookup", lookup)
            agent = engine.agent("tracer", tools=["lookup"])
            await agent.register_plan("p", PLAN)
            instance = await agent.create("p", id="traced")
            await clock.settle()
            await clock.advance("1 hour")
            assert (await instance.wait(timeout=20)).output == 42
    finally:
        tool_log.removeHandler(handler)
    names = [span.name for span in exporter.get_finished_spans()]
    # two activations; "first" ran in the first one and was only replayed in the second
    assert sorted(names) == ["activation", "activation", "step first", "step second",
                             "tool lookup"]
    tool_span = next(s for s in exporter.get_finished_spans() if s.name == "tool lookup")
    assert tool_span.attributes["agents_durable.instance"] == "traced"
    assert tool_span.parent is not None  # inside its step, inside its activation
    entry = json.loads(lines[0])
    assert (entry["message"], entry["agent"], entry["instance"]) == ("looking up 1", "tracer",
                                                                      "traced")
    activations = metrics.registry.get_sample_value("agents_durable_activations_total",
                                                    {"agent": "tracer"})
    assert activations == 2
