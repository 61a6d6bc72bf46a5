"""Retention: ``instance.delete()``, the policy a worker applies, the CLI's delete and purge."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from agents_durable.cli import main
from agents_durable.testing import FakeClock
from tests.server.plans import QUICK

WAITS = '''async def run(event, step):
    await step.wait_for_event("go", type="go", timeout="300 days")
'''
FAILS = '''async def run(event, step):
    raise ValueError("no")
'''

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store_engine(db: str | Path, clock: FakeClock) -> ad.Engine:
    """The engine every retention test runs on: SQLite and PostgreSQL (the ``db``
    fixture, this file is in ``BOTH_BACKENDS``)."""
    async with ad.Engine.open(db, clock=clock) as engine:
        yield engine


async def _finished(agent: ad.AgentScope, plan: str, id: str) -> ad.Instance:
    instance = await agent.create(plan, {"n": 1}, id=id)
    await instance.wait(timeout=20)
    return instance


async def test_delete_removes_a_finished_instance_and_refuses_an_active_one(
        store_engine: ad.Engine) -> None:
    agent = store_engine.agent("a")
    await agent.register_plan("quick", QUICK)
    await agent.register_plan("waits", WAITS)
    done = await _finished(agent, "quick", "done")
    waiting = await agent.create("waits", id="waiting")
    await store_engine.clock.settle()  # type: ignore[attr-defined]
    with pytest.raises(ad.InstanceNotActive, match="cannot delete instance 'waiting'"):
        await waiting.delete()
    await done.delete()
    with pytest.raises(ad.InstanceNotFound):
        await done.status()
    other = store_engine.agent("b")
    await other.register_plan("quick", QUICK)
    theirs = await _finished(other, "quick", "theirs")
    with pytest.raises(ad.InstanceNotFound):  # another agent's id: like a missing one
        await agent.get("theirs")
    assert (await theirs.status()).status == "complete"
    again = await _finished(agent, "quick", "done")  # the id is free again
    assert (await again.status()).status == "complete"


async def test_the_policy_keeps_each_status_for_its_time_per_agent(
        store_engine: ad.Engine, clock: FakeClock) -> None:
    a, b = store_engine.agent("a"), store_engine.agent("b")
    for agent in (a, b):
        await agent.register_plan("quick", QUICK)
        await agent.register_plan("fails", FAILS)
        await agent.register_plan("waits", WAITS)
        await _finished(agent, "quick", "ok")
        await _finished(agent, "fails", "bad")
        await agent.create("waits", id="active")
    await clock.settle()
    policy = ad.RetentionPolicy(finished="1 day", errored="7 days",
                                agents={"b": ad.RetentionPolicy(finished="30 days")},
                                batch=1)
    await clock.advance("2 days")
    deleted = await store_engine.apply_retention(policy)
    ids = {agent.agent_id: {i.id for i in (await agent.list()).items} for agent in (a, b)}
    assert ids == {"a": {"bad", "active"}, "b": {"ok", "bad", "active"}}, deleted
    await clock.advance("6 days")
    assert await store_engine.apply_retention(policy) == 1  # a's errored one
    await clock.advance("30 days")
    assert await store_engine.apply_retention(policy) == 1  # b keeps errored forever
    ids = {agent.agent_id: {i.id for i in (await agent.list()).items} for agent in (a, b)}
    assert ids == {"a": {"active"}, "b": {"bad", "active"}}


async def test_a_worker_applies_its_policy_in_the_background(db: str | Path,
                                                             clock: FakeClock) -> None:
    policy = ad.RetentionPolicy(finished="1 hour", every=0.02, batch=2)
    async with ad.Engine.open(db, clock=clock, retention=policy) as engine:
        agent = engine.agent("a")
        await agent.register_plan("quick", QUICK)
        for n in range(5):
            await _finished(agent, "quick", f"i{n}")
        await clock.advance("2 hours")
        with anyio.fail_after(20):
            while (await agent.list()).items:
                await anyio.sleep(0.02)


async def test_the_cli_deletes_and_purges(db: str | Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    async with ad.Engine.open(db) as engine:
        agent = engine.agent("default")
        await agent.register_plan("quick", QUICK)
        await agent.register_plan("waits", WAITS)
        for n in range(3):
            await _finished(agent, "quick", f"q{n}")
        await agent.create("waits", id="w")
    assert await anyio.to_thread.run_sync(main, ["delete", "q0", "--db", str(db)]) == 0
    assert "deleted q0" in capsys.readouterr().out
    assert await anyio.to_thread.run_sync(main, ["delete", "w", "--db", str(db)]) == 1
    assert "cannot delete instance 'w': it is" in capsys.readouterr().err
    assert await anyio.to_thread.run_sync(
        main, ["purge", "--older-than", "1 day", "--db", str(db)]) == 0
    assert "deleted 0 instance(s)" in capsys.readouterr().out
    assert await anyio.to_thread.run_sync(
        main, ["purge", "--older-than", "0 seconds", "--db", str(db), "--json"]) == 0
    assert '"deleted": 2' in capsys.readouterr().out
    assert await anyio.to_thread.run_sync(
        main, ["purge", "--older-than", "1 day", "--status", "running", "--db", str(db)]) == 2
    async with ad.Engine.open(db, worker=False) as engine:
        assert [i.id for i in (await engine.agent("default").list()).items] == ["w"]


async def test_the_cli_creates_lists_and_revokes_tokens(
        db: str | Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with ad.Engine.open(db, worker=False):
        pass
    assert await anyio.to_thread.run_sync(
        main, ["token", "create", "--agent", "alice", "--label", "ci", "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip()  # the secret, shown once
    assert await anyio.to_thread.run_sync(main, ["token", "list", "--db", str(db)]) == 0
    listed = capsys.readouterr().out
    assert "alice" in listed and "ci" in listed
    async with ad.Engine.open(db, worker=False) as engine:
        tokens = await engine.store.list_tokens()
    assert [(t.agent_id, t.label, t.revoked_at) for t in tokens] == [("alice", "ci", None)]
    assert tokens[0].id in listed
    assert await anyio.to_thread.run_sync(
        main, ["token", "revoke", tokens[0].id, "--db", str(db)]) == 0
    async with ad.Engine.open(db, worker=False) as engine:
        (revoked,) = await engine.store.list_tokens()
    assert revoked.revoked_at is not None


async def test_an_instance_a_worker_holds_is_never_deleted(db: str | Path,
                                                           clock: FakeClock) -> None:
    async with ad.Engine.open(db, clock=clock, worker=False) as engine:
        agent = engine.agent("a")
        await agent.register_plan("quick", QUICK)
        instance = await agent.create("quick", {"n": 1}, id="held")
        (claimed,) = await engine.store.claim_due(clock.now() + 1, 1)
        assert (claimed.id, claimed.status) == ("held", "running")
        with pytest.raises(ad.InstanceNotActive, match="cannot delete instance 'held'"):
            await instance.delete()
        assert await engine.store.purge_instances({"running": clock.now() + 1e9}) == []
        assert (await instance.status()).status == "running"
