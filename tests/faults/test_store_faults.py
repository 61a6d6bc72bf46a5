"""Store failures never fail a plan (finding 2): an error at any store call the engine
makes (in both isolation modes), a lock held past the busy timeout, a disk filled to the
last byte. Each must leave every instance recoverable (it completes once the store works
again, with the output an undisturbed run gives) and the engine alive, recovering by
itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import agents_durable as ad
from agents_durable.store import SQLiteStore
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio

PLAN = '''
async def run(event, step):
    first = await step.do("first", lambda: tools.work(event.payload["n"]))
    await step.sleep("rest", "1 hour")
    second = await step.do("second", lambda: tools.work(first))
    return [first, second]
'''

#: Store methods the engine (not the host) calls while it runs instances.
ENGINE_CALLS = ("claim_due", "next_due", "load_journals", "load_journal", "get_plan_by_hash",
                "record_step", "finish")


class FaultyStore:
    """A real ``SQLiteStore`` that fails the ``fail_at``-th engine-side call (1-based)."""

    def __init__(self, path: Path, fail_at: int | None = None,
                 error: BaseException | None = None) -> None:
        self.inner = SQLiteStore(path)
        self.fail_at = fail_at
        self.error = error or sqlite3.OperationalError("database or disk is full")
        self.calls: list[str] = []
        self.failed: str | None = None

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name not in ENGINE_CALLS:
            return value

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if len(self.calls) == self.fail_at:
                self.failed = name
                raise self.error
            return await value(*args, **kwargs)

        return call


def work(n: int) -> int:
    return n + 1


async def drive(engine: ad.Engine, clock: FakeClock, n: int = 1) -> ad.InstanceStatus:
    agent = engine.agent("agent-a", tools=["work"])
    await agent.register_plan("p", PLAN)
    instance = await agent.create("p", {"n": n}, id=f"i{n}")
    for _ in range(12):  # sleeps and retry backoffs are in fake time
        await clock.advance("1 hour")
        status = await instance.status()
        if status.finished:
            return status
    return await instance.status()


@pytest.mark.parametrize("isolation", ["inline", "process"])
async def test_an_error_at_any_engine_store_call_leaves_the_instance_recoverable(
        tmp_path: Path, isolation: str) -> None:
    clean = FaultyStore(tmp_path / "clean.db")
    clock = FakeClock()
    async with ad.Engine(clean, clock=clock, isolation=isolation, runners=1) as engine:
        engine.tools.register("work", work)
        reference = await drive(engine, clock)
    assert (reference.status, reference.output) == ("complete", [2, 3])
    sites = len(clean.calls)
    assert {"claim_due", "record_step", "finish", "load_journals"} <= set(clean.calls)

    errors = [sqlite3.OperationalError("database or disk is full"),
              sqlite3.OperationalError("database is locked"),
              OSError(28, "No space left on device"),
              ad.StoreUnavailable("the database failed")]
    for fail_at in range(1, sites + 1):
        store = FaultyStore(tmp_path / f"fault-{fail_at}.db", fail_at,
                            errors[fail_at % len(errors)])
        clock = FakeClock()
        async with ad.Engine(store, clock=clock, isolation=isolation, runners=1) as engine:
            engine.tools.register("work", work)
            status = await drive(engine, clock)
            assert store.failed is not None
            assert (status.status, status.output, status.error) == (
                "complete", [2, 3], None), (fail_at, store.failed, status)
            # the engine is alive: new work still runs
            again = await drive(engine, clock, n=10)
            assert (again.status, again.output) == ("complete", [11, 12]), store.failed


async def test_a_lock_held_past_the_busy_timeout_delays_but_fails_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "locked.db"
    clock = FakeClock()
    async with ad.Engine.open(path, clock=clock, busy_timeout=0.2) as engine:
        engine.tools.register("work", work)
        agent = engine.agent("agent-a", tools=["work"])
        await agent.register_plan("p", PLAN)
        instances = [await agent.create("p", {"n": n}) for n in range(5)]
        await clock.settle()
        assert {(await i.status()).status for i in instances} == {"waiting"}
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with caplog.at_level(logging.WARNING, "agents_durable"):
                await clock.advance("1 hour")  # due now; each claim waits 0.2 s, fails
                for _ in range(3):  # and is retried with backoff, all while locked
                    await clock.advance("1 second")
            # nobody errored; they wait (handed back) for the lock
            assert {(await i.status()).status for i in instances} <= {"waiting", "queued",
                                                                       "running"}
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        for _ in range(3):
            await clock.advance("1 minute")
        statuses = [await i.wait(timeout=20) for i in instances]
    assert [(s.status, s.output) for s in statuses] == [
        ("complete", [n + 1, n + 2]) for n in range(5)]
    failures = [r for r in caplog.records if "the store failed" in r.getMessage()]
    assert len(failures) == 1, [r.getMessage() for r in failures]  # once per condition
    assert "database is locked" in failures[0].getMessage()


# -- a real full disk ---------------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(where: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where``, or skip with the reason."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small file system needs root and mount(8)")
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(directory: Path) -> Path:
    """Write a file until the file system has not one byte left."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as out:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 8, 1):
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * chunk)
    return filler


BIG = '''
async def run(event, step):
    parts = []
    for k in range(4):
        parts.append(await step.do("part " + str(k), lambda: tools.blob(k)))
        await step.sleep("rest " + str(k), "1 minute")
    return [len(p) for p in parts]
'''


async def test_a_full_disk_hands_instances_back_until_space_returns(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with small_filesystem(tmp_path / "small", "8m") as root:
        clock = FakeClock()
        async with ad.Engine.open(root / "full.db", clock=clock) as engine:
            engine.tools.register("blob", lambda k: "x" * 50_000)
            agent = engine.agent("agent-a", tools=["blob"])
            await agent.register_plan("big", BIG)
            instances = [await agent.create("big", id=f"big-{n}") for n in range(6)]
            await clock.settle()
            filler = fill(root)
            with caplog.at_level(logging.WARNING, "agents_durable"):
                for _ in range(8):
                    await clock.advance("1 minute")
            statuses = {(await i.status()).status for i in instances}
            assert "errored" not in statuses
            assert any("the store failed" in r.getMessage() for r in caplog.records), \
                "the disk never filled up: the test proved nothing"
            filler.unlink()  # space returns: the engine recovers by itself
            for _ in range(12):
                await clock.advance("1 minute")
            done = [await i.wait(timeout=30) for i in instances]
            # the engine still takes new work
            late = await agent.create("big", id="late")
            for _ in range(6):
                await clock.advance("1 minute")
            done.append(await late.wait(timeout=30))
    assert [(s.status, s.output) for s in done] == [("complete", [50_000] * 4)] * 7
    assert any("works again" in r.getMessage() for r in caplog.records)


WAIT = '''
async def run(event, step):
    return await step.wait_for_event("go", type="go", timeout="1 day")
'''


class PausingStore:
    """A real ``SQLiteStore`` that holds the first call of ``method`` once the store has
    done it, until the engine is shut down (the shutdown lands mid-claim)."""

    def __init__(self, path: Path, method: str) -> None:
        self.inner = SQLiteStore(path)
        self.method = method
        self.reached = anyio.Event()
        self.held = False

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name != self.method:
            return value

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await value(*args, **kwargs)
            if not self.held and result:
                self.held = True
                self.reached.set()
                await anyio.sleep(0.2)  # shutdown arrives while the result is in flight
            return result

        return call


@pytest.mark.parametrize("method", ["claim_due", "load_journals"])
async def test_shutdown_during_a_claim_hands_every_claimed_instance_back(
        tmp_path: Path, method: str) -> None:
    path = tmp_path / "claim.db"
    async with ad.Engine.open(path, worker=False) as client:
        agent = client.agent("agent-a")
        await agent.register_plan("wait", WAIT)
        await agent.create_batch([{"plan": "wait", "id": f"w{n}"} for n in range(3)])
    store = PausingStore(path, method)
    async with ad.Engine(store, grace_period=0.5, poll_interval=0.05) as engine:
        await store.reached.wait()
    assert store.held
    # nothing is left `running` with no engine to run it: the claim was handed back (or
    # the activations ran to their wait) before the engine closed
    async with ad.Engine.open(path, worker=False) as client:
        agent = client.agent("agent-a")
        statuses = {(await (await agent.get(f"w{n}")).status()).status for n in range(3)}
    assert statuses <= {"queued", "waiting"}, statuses
    assert engine.shutdown_report["unrecorded"] == []
