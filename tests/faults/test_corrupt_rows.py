"""One damaged row damages one instance: never the agent's listing, never its neighbours.

Each case writes one bad value (an unknown status, a ``wake_at`` of 1e300, a text
``seq``, a payload that is not JSON, ...) into the victim's rows with a raw sqlite3
connection, then checks what an operator would: ``list()``, ``status()`` and
``history()`` of every instance work and name the damaged ``table.column``; running the
engine errors the victim with ``CorruptRecord`` naming it (or runs it, when the damaged
field is not needed to run), never re-runs a committed step, and completes the others.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from agents_durable.agents import PlanToolkit
from agents_durable.plans._compile import _CACHE
from agents_durable.testing import FakeClock
from tests.faults.corruption import (
    AGENT,
    DAMAGES,
    HEALTHY,
    VICTIM,
    Damage,
    Ledger,
    build,
    damage,
    open_engine,
)

pytestmark = pytest.mark.anyio

Fresh = Callable[[], tuple[Path, FakeClock, Ledger]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, dict[str, int]]:
    """The victim and its neighbours, built once; each test damages its own copy."""
    path, clock, ledger = tmp_path_factory.mktemp("template") / "engine.db", FakeClock(), Ledger()
    anyio.run(build, path, clock, ledger)
    return path, clock.now(), dict(ledger.calls)


@pytest.fixture
def fresh(template: tuple[Path, float, dict[str, int]], tmp_path: Path) -> Fresh:
    def copy() -> tuple[Path, FakeClock, Ledger]:
        source, now, calls = template
        path = tmp_path / "engine.db"
        shutil.copyfile(source, path)  # closed cleanly: the WAL was checkpointed into it
        ledger = Ledger()
        ledger.calls.update(calls)
        return path, FakeClock(now), ledger
    return copy


@pytest.mark.parametrize("what", DAMAGES, ids=lambda d: d.label)
async def test_one_corrupt_row_stays_in_its_instance(fresh: Fresh, what: Damage) -> None:
    path, clock, ledger = fresh()
    damage(path, what)

    async with open_engine(path, clock, ledger) as engine:
        agent = engine.agent(AGENT, tools=["ledger.add"])
        page = await agent.list()
        listed = {item.id: item for item in page.items}
        assert set(listed) == {VICTIM, *HEALTHY}
        for instance_id in HEALTHY:
            assert listed[instance_id].status == "waiting"
            assert listed[instance_id].corrupt is None
        victim = await agent.get(VICTIM)
        status, history = await victim.status(), await victim.history()
        shown = f"{status}\n{history}\n{page.model_dump_json()}"
        assert what.column_name in shown, shown  # reported by table and column
        history.model_dump_json()  # the JSON the CLI prints
        history._repr_html_()  # the notebook view
        toolkit = PlanToolkit(engine, AGENT, tools=["ledger.add"])
        for tool in (toolkit.plan_status, toolkit.plan_history):  # what an agent sees
            seen = await tool(VICTIM)
            assert seen.ok, (tool, seen)

        for instance_id in HEALTHY:
            await (await agent.get(instance_id)).send_event("reply", {"ok": instance_id})
        if what.outcome != "stuck":
            await victim.send_event("reply", {"ok": VICTIM})
        await clock.settle()
        for instance_id in HEALTHY:
            final = await (await agent.get(instance_id)).wait(timeout=10)
            assert (final.status, final.output) == (
                "complete", {"first": 1, "reply": {"ok": instance_id}})
        after = await victim.status()
        if what.outcome == "errored":
            assert after.status == "errored", after
            assert after.error is not None and after.error.name == "CorruptRecord"
            assert what.column_name in after.error.message
            assert "victim" in after.error.message
        elif what.outcome == "complete":
            assert after.status == "complete", after
            assert after.output == {"first": 1, "reply": {"ok": VICTIM}}
        else:
            assert after.corrupt is not None and what.column_name in after.corrupt
            assert after.error is not None and after.error.name == "CorruptRecord"
        # a committed step never runs again, whatever its row holds
        assert ledger.calls == {VICTIM: 1, **dict.fromkeys(HEALTHY, 1)}
        assert (await agent.list()).items  # still lists after the run


async def test_unknown_step_state_errors_instead_of_rerunning(fresh: Fresh) -> None:
    """A ``do`` step whose state is unknown must not be mistaken for one never run."""
    path, clock, ledger = fresh()
    damage(path, Damage("steps", "state", "committed", " AND seq = 0"))
    async with open_engine(path, clock, ledger) as engine:
        agent = engine.agent(AGENT, tools=["ledger.add"])
        victim = await agent.get(VICTIM)
        await victim.restart(("now", 1))  # replays "first" from its (damaged) row
        await clock.settle()
        final = await victim.wait(timeout=10)
    assert final.status == "errored" and final.error is not None
    assert final.error.name == "CorruptRecord"
    assert "steps.state holds 'committed'" in final.error.message
    assert "step #0 (do 'first')" in final.error.message
    assert ledger.calls[VICTIM] == 1


@pytest.mark.parametrize("column, value", [("outline", "{not json"), ("policy", "[]"),
                                           ("created_at", "today"), ("version", "v2")])
async def test_a_corrupt_plan_version(fresh: Fresh, column: str, value: object) -> None:
    path, clock, ledger = fresh()
    damage(path, Damage("plan_versions", column, value))
    _CACHE.clear()  # a fresh process compiles the plan from its row
    async with open_engine(path, clock, ledger) as engine:
        agent = engine.agent(AGENT, tools=["ledger.add"])
        plans = {plan.name: plan for plan in await agent.list_plans()}
        assert plans["shared"].corrupt is None
        assert f"plan_versions.{column}" in (plans["victim-plan"].corrupt or "")
        for instance_id in (*HEALTHY, VICTIM):
            await (await agent.get(instance_id)).send_event("reply", {"ok": instance_id})
        await clock.settle()
        for instance_id in HEALTHY:
            assert (await (await agent.get(instance_id)).wait(timeout=10)).status == "complete"
        final = await (await agent.get(VICTIM)).wait(timeout=10)
    assert final.status == "errored" and final.error is not None
    assert final.error.name == "CorruptRecord"
    assert f"plan_versions.{column}" in final.error.message


async def test_error_json_with_line_and_unknown_keys(fresh: Fresh) -> None:
    """Errors of plan code may carry ``line`` and ``source``; unknown keys never break."""
    path, clock, ledger = fresh()
    damage(path, Damage("instances", "error", '{"name": "PlanRuntimeError", "message": '
                        '"boom", "step": "first", "line": 12, "source": "  total = sum(x)", '
                        '"hint": {"nested": [1]}, "trace_id": 7}'))
    async with open_engine(path, clock, ledger) as engine:
        status = await (await engine.agent(AGENT).get(VICTIM)).status()
    assert status.error is not None and status.corrupt is None
    assert (status.error.name, status.error.line, status.error.source) == (
        "PlanRuntimeError", 12, "  total = sum(x)")
    assert "line 12: total = sum(x)" in str(status)
    assert "line 12: total = sum(x)" in status._repr_html_()


async def test_engine_keeps_running_when_every_wake_at_is_text(fresh: Fresh) -> None:
    """``next_due`` must not trip over a text ``wake_at`` (the scheduler would die)."""
    path, clock, ledger = fresh()
    damage(path, Damage("instances", "wake_at", "soon"))
    async with open_engine(path, clock, ledger) as engine:
        agent = engine.agent(AGENT, tools=["ledger.add"])
        for instance_id in HEALTHY:
            await (await agent.get(instance_id)).send_event("reply", {"ok": instance_id})
        await clock.settle()
        for instance_id in HEALTHY:
            assert (await (await agent.get(instance_id)).wait(timeout=10)).status == "complete"
        # the only due row left has a text wake_at; the scheduler stays alive
        await clock.advance("2 days")
        fresh = await agent.create("shared", {"key": "late"}, id="late")
        await clock.settle()
        assert (await fresh.status()).status == "waiting"


async def test_a_result_that_looks_like_json_but_does_not_decode(fresh: Fresh) -> None:
    """The store checks a journal row's JSON by its frame (cheap, on every replay); text
    framed right that still does not decode is caught by the replay itself."""
    path, clock, ledger = fresh()
    damage(path, Damage("steps", "result", '{"value": }', " AND seq = 0"))
    async with open_engine(path, clock, ledger) as engine:
        agent = engine.agent(AGENT, tools=["ledger.add"])
        victim = await agent.get(VICTIM)
        assert "undecodable" in str((await victim.history()).steps[0].result)
        await victim.send_event("reply", {"ok": VICTIM})
        await clock.settle()
        final = await victim.wait(timeout=10)
    assert final.status == "errored" and final.error is not None
    assert final.error.name == "CorruptRecord" and "victim" in final.error.message
    assert ledger.calls[VICTIM] == 1
