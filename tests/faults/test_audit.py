"""Operator actions leave a trace (SPEC 4): an audit entry for every pause, resume,
terminate and restart, and a restart keeps the steps it discarded readable, marked as
discarded, where replay never sees them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from agents_durable.cli import main
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

TICKETS = '''
"""Opens a ticket, waits for the customer, closes it."""

async def run(event, step):
    ticket = await step.do("open ticket", lambda: tools.tickets.open(event.payload["order"]))
    reply = await step.wait_for_event("customer reply", type="reply", timeout="2 days")
    return {"ticket": ticket, "reply": reply["payload"]}
'''


class Tickets:
    """A ticket system with real side effects: every call opens one more ticket."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def open(self, order: int) -> str:
        self.opened.append(f"T-{order}-{len(self.opened) + 1}")
        return self.opened[-1]


async def _agent(engine: ad.Engine, tickets: Tickets) -> ad.AgentScope:
    engine.tools.register("tickets.open", tickets.open)
    agent = engine.agent("support", tools=["tickets.open"])
    await agent.register_plan("tickets", TICKETS)
    return agent


async def test_restart_from_step_keeps_the_discarded_ticket(engine: ad.Engine,
                                                            clock: FakeClock) -> None:
    tickets = Tickets()
    agent = await _agent(engine, tickets)
    instance = await agent.create("tickets", {"order": 7}, id="order-7")
    await clock.settle()
    await instance.pause()
    await clock.advance("1 hour")
    await instance.resume()
    await clock.settle()
    await instance.restart("open ticket")
    await clock.settle()
    await instance.send_event("reply", {"ok": True})
    final = await instance.wait(timeout=10)
    assert final.output == {"ticket": "T-7-2", "reply": {"ok": True}}
    assert tickets.opened == ["T-7-1", "T-7-2"]

    history = await instance.history()
    assert [(a.action, a.was) for a in history.audit] == [
        ("pause", "waiting"), ("resume", "paused"), ("restart", "waiting")]
    restart = history.audit[2]
    assert restart.from_step == {"seq": 0, "name": "open ticket", "occurrence": 1}
    assert (history.audit[1].at - history.audit[0].at).total_seconds() == 3600
    # the discarded steps are still there, marked with the restart that discarded them
    assert [(d.discarded_by, d.name, d.state, d.result) for d in history.discarded_steps] == [
        (restart.seq, "open ticket", "done", "T-7-1"),
        (restart.seq, "customer reply", "waiting", None)]
    # ... and the live journal is the new run's
    assert [(s.name, s.state) for s in history.steps] == [
        ("open ticket", "done"), ("customer reply", "done")]
    assert history.steps[0].result == "T-7-2"
    text = str(history)
    assert "restart from step 'open ticket' #1 (was waiting)" in text
    assert "T-7-1" in text and "discarded by restarts" in text
    assert "pause (was waiting)" in text and "resume (was paused)" in text
    html = history._repr_html_()
    assert "Discarded by restarts" in html and "T-7-1" in html and "Audit" in html


async def test_terminate_and_restart_from_the_top_are_recorded(engine: ad.Engine,
                                                               clock: FakeClock) -> None:
    tickets = Tickets()
    agent = await _agent(engine, tickets)
    instance = await agent.create("tickets", {"order": 8}, id="order-8")
    await clock.settle()
    await instance.terminate()
    await instance.restart()  # from the top: every step is discarded
    await clock.settle()
    await instance.restart("open ticket")
    await clock.settle()
    history = await instance.history()
    assert [(a.action, a.from_step) for a in history.audit] == [
        ("terminate", None), ("restart", None),
        ("restart", {"seq": 0, "name": "open ticket", "occurrence": 1})]
    first, second = history.audit[1].seq, history.audit[2].seq
    assert [(d.discarded_by, d.seq, d.result) for d in history.discarded_steps] == [
        (first, 0, "T-8-1"), (first, 1, None), (second, 0, "T-8-2"), (second, 1, None)]
    assert tickets.opened == ["T-8-1", "T-8-2", "T-8-3"]
    assert "restart from the top (was terminated)" in str(history)


async def test_restart_of_a_running_instance_discards_when_it_stops(engine: ad.Engine,
                                                                     clock: FakeClock) -> None:
    entered, release = anyio.Event(), anyio.Event()
    calls: list[int] = []

    async def slow(n: int) -> int:
        calls.append(n)
        if len(calls) == 1:
            entered.set()
            await release.wait()
        return n

    engine.tools.register("slow", slow)
    agent = engine.agent("a", tools=["slow"])
    await agent.register_plan("p", '''
async def run(event, step):
    a = await step.do("quick", lambda: 1)
    b = await step.do("slow", lambda: tools.slow(2))
    return [a, b]
''')
    instance = await agent.create("p", id="busy")
    with anyio.fail_after(10):
        await entered.wait()
    await instance.restart("quick")  # requested while "slow" runs
    release.set()
    final = await instance.wait(timeout=10)
    assert final.output == [1, 2]
    history = await instance.history()
    (entry,) = history.audit
    assert (entry.action, entry.was, entry.deferred) == ("restart", "running", True)
    # The restart cancelled the step in flight ("slow" never committed), so only what was
    # recorded before it is discarded.
    assert [(d.discarded_by, d.name) for d in history.discarded_steps] == [
        (entry.seq, "quick")]
    assert "applied when the running step ended" in str(history)


async def test_replay_never_sees_discarded_steps(tmp_path: Path, clock: FakeClock) -> None:
    """The journal replay reads is the ``steps`` table: discarded rows live elsewhere."""
    path, tickets = tmp_path / "engine.db", Tickets()
    async with ad.Engine.open(path, clock=clock) as engine:
        agent = await _agent(engine, tickets)
        instance = await agent.create("tickets", {"order": 9}, id="order-9")
        await clock.settle()
        await instance.restart("customer reply")
        await clock.settle()
        journal = await engine.store.load_journal(
            (await engine.store.get_instance("support", "order-9")).pk)
        assert [(s.seq, s.name, s.state) for s in journal.steps.values()] == [
            (0, "open ticket", "done"), (1, "customer reply", "waiting")]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM discarded_steps").fetchone() == (1,)
        assert conn.execute("SELECT action FROM audit").fetchall() == [("restart",)]
    finally:
        conn.close()
    assert tickets.opened == ["T-9-1"]  # the kept step was not re-run


def test_cli_history_prints_the_audit_trail(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "engine.db"
    clock, tickets = FakeClock(), Tickets()

    async def prepare() -> None:
        async with ad.Engine.open(path, clock=clock) as engine:
            agent = await _agent(engine, tickets)
            instance = await agent.create("tickets", {"order": 5}, id="order-5")
            await clock.settle()
            await instance.restart("open ticket")
            await clock.settle()

    anyio.run(prepare)
    assert main(["pause", "order-5", "--db", str(path), "--agent", "support"]) == 0
    capsys.readouterr()
    assert main(["history", "order-5", "--db", str(path), "--agent", "support"]) == 0
    out = capsys.readouterr().out
    assert "audit (operator actions):" in out
    assert "restart from step 'open ticket' #1 (was waiting)" in out
    assert "pause (was waiting)" in out
    assert "[restart #1] #0 do 'open ticket' done" in out and '"T-5-1"' in out
    assert main(["history", "order-5", "--json", "--db", str(path), "--agent",
                 "support"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["action"] for a in data["audit"]] == ["restart", "pause"]
    assert data["discarded_steps"][0]["result"] == "T-5-1"
    assert data["discarded_steps"][0]["discarded_by"] == data["audit"][0]["seq"]
