"""Prometheus metrics at ``/metrics`` (prometheus_client, one registry per app).

Counters and histograms are fed by the engine's observer as work happens; instances by
status and agent are counted in the store when scraped (a gauge that is always true,
whichever process ran the instances). With the ``otel`` extra, the same observer opens
OpenTelemetry spans for activations, executed step attempts and tool calls; replayed
steps are never observed (see ``engine._observe``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from agents_durable.engine import Observer
from agents_durable.server._logs import log_context

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
                    1800, 3600)


class Metrics(Observer):
    """The engine observer behind ``/metrics`` (and the OTel spans, when enabled)."""

    def __init__(self, *, tracer: Any = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.instances = Gauge("agents_durable_instances", "Instances by status and agent",
                               ["agent", "status"], registry=r)
        self.steps = Counter("agents_durable_steps_committed",
                             "Journal rows committed, by kind and state",
                             ["agent", "kind", "state"], registry=r)
        self.step_seconds = Histogram("agents_durable_step_duration_seconds",
                                      "Settled steps: first start to end", ["agent", "kind"],
                                      buckets=_LATENCY_BUCKETS, registry=r)
        self.activations = Counter("agents_durable_activations",
                                   "Activations run (replays of run())", ["agent"], registry=r)
        self.activation_failures = Counter(
            "agents_durable_activation_failures",
            "Activations that ended in an engine or store failure", ["agent", "reason"],
            registry=r)
        self.runner_deaths = Counter(
            "agents_durable_runner_deaths",
            "Plan runner processes that died under an activation (process mode)", ["agent"],
            registry=r)
        self.claim_lag = Histogram("agents_durable_claim_lag_seconds",
                                   "From an instance becoming due to its claim",
                                   buckets=_LATENCY_BUCKETS, registry=r)
        self.store_errors = Counter("agents_durable_store_errors",
                                    "Store calls that failed (infrastructure)", ["kind"],
                                    registry=r)
        self.tool_calls = Counter("agents_durable_tool_calls", "Host tool calls",
                                  ["agent", "tool"], registry=r)
        self.tracer = tracer

    # -- the observer ---------------------------------------------------------------------

    @contextlib.contextmanager
    def activation(self, agent_id: str, instance_id: str, plan: str) -> Iterator[None]:
        self.activations.labels(agent_id).inc()
        with log_context(agent=agent_id, instance=instance_id), self._span(
                "activation", agent_id, instance_id, {"agents_durable.plan": plan}):
            yield

    @contextlib.contextmanager
    def step(self, agent_id: str, instance_id: str, name: str, attempt: int) -> Iterator[None]:
        with self._span(f"step {name}", agent_id, instance_id,
                        {"agents_durable.step": name, "agents_durable.attempt": attempt}):
            yield

    @property
    def observes_steps(self) -> bool:
        return self.tracer is not None  # a step attempt is only a span here

    @contextlib.contextmanager
    def tool(self, agent_id: str, instance_id: str, name: str) -> Iterator[None]:
        self.tool_calls.labels(agent_id, name).inc()
        with self._span(f"tool {name}", agent_id, instance_id, {"agents_durable.tool": name}):
            yield

    def step_committed(self, agent_id: str, kind: str, state: str,
                       seconds: float | None) -> None:
        self.steps.labels(agent_id, kind, state).inc()
        if seconds is not None and state in ("done", "failed") and seconds >= 0:
            self.step_seconds.labels(agent_id, kind).observe(seconds)

    def activation_failed(self, agent_id: str, reason: str) -> None:
        self.activation_failures.labels(agent_id, reason).inc()
        if reason == "runner":
            self.runner_deaths.labels(agent_id).inc()

    def claimed(self, agent_id: str, lag: float) -> None:
        self.claim_lag.observe(lag)

    def store_failed(self, error: BaseException) -> None:
        cause = error.__cause__ if error.__cause__ is not None else error
        self.store_errors.labels(type(cause).__name__).inc()

    @contextlib.contextmanager
    def _span(self, name: str, agent_id: str, instance_id: str,
              attributes: dict[str, Any]) -> Iterator[None]:
        if self.tracer is None:
            yield
            return
        with self.tracer.start_as_current_span(name, attributes={
                "agents_durable.agent": agent_id, "agents_durable.instance": instance_id,
                **attributes}):
            yield

    # -- scraping -------------------------------------------------------------------------

    async def render(self, engine: Any) -> bytes:
        """The exposition text, with instance counts read from the store now."""
        counts = await engine.store.count_instances()
        self.instances.clear()
        for agent, status, count in counts:
            self.instances.labels(agent, status).set(count)
        return generate_latest(self.registry)


def otel_tracer() -> Any:
    """The ``agents_durable`` tracer of the global OpenTelemetry provider (``otel`` extra)."""
    try:
        from opentelemetry import trace
    except ImportError as exc:
        from agents_durable.errors import UsageError

        raise UsageError("tracing needs the otel extra: pip install "
                         "'agents-durable[otel]'") from exc
    return trace.get_tracer("agents_durable")
