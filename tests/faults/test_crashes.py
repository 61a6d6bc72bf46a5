"""Quarantine only what crashes the engine (finding 1) and shutdown drains (finding 4).

A crash storm SIGKILLs a worker at random points, without waiting for the instances in
flight to get anywhere: none may be quarantined, lost, or have a committed step run
again. A plan whose tool kills its own worker is quarantined after two crashes without
progress, and only it. SIGTERM with effects in flight lets them finish and commit
(nothing runs twice), and a hung tool does not keep the process alive past the grace.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from tests.engine.crash_worker import AGENT, instance_ids, params
from tests.engine.test_recovery import (
    Snapshot,
    finish,
    kill,
    side_lines,
    snapshot,
    wait_for_lines,
)

pytestmark = pytest.mark.anyio

FAULT_WORKER = Path(__file__).with_name("fault_worker.py")


def expected_output(instance_id: str) -> dict[str, object]:
    n = params(instance_id)["n"]
    results = [n * 10 + k for k in range(1, 6)]
    return {"n": n, "results": results, "total": sum(results)}


def start_long(db: Path, side_log: Path, count: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(FAULT_WORKER), str(db), str(side_log), "long", "--count",
         str(count), "--pause", "0.02"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


async def wait_for_progress(agent: ad.AgentScope, previous: Snapshot,
                            timeout: float = 60) -> None:
    """Until each instance in flight at the last kill committed another step (or ended)."""
    with anyio.fail_after(timeout):
        for instance_id in previous.running:
            handle = await agent.get(instance_id)
            while True:
                status = await handle.status()
                done = {s.name for s in status.steps if s.state == "done"}
                if status.finished or len(done) > len(previous.done[instance_id]):
                    break
                await anyio.sleep(0.01)


async def storm(tmp_path: Path, *, count: int, kills: int, seed: int) -> None:
    """Kill a worker whose instances each run ten steps in one long activation, each time
    soon after every instance caught at the previous kill committed another step: they
    are in flight at many kills in a row, making progress in between."""
    rng = random.Random(seed)
    db, side_log = tmp_path / "storm.db", tmp_path / "side.log"
    snapshots: list[Snapshot] = []
    async with ad.Engine.open(db, worker=False) as client:
        agent = client.agent(AGENT)
        process = start_long(db, side_log, count)
        for _ in range(kills):
            if snapshots:
                await wait_for_progress(agent, snapshots[-1])
            elif not await wait_for_lines(side_log, count, process):
                break
            await anyio.sleep(rng.uniform(0.0, 0.03))
            if process.poll() is not None:
                break
            kill(process)
            snapshots.append(await snapshot(agent, side_log))
            process = start_long(db, side_log, count)
        await finish(process)
        final = {i: await (await agent.get(i)).status() for i in instance_ids(count)}
    assert len(snapshots) >= 2, "the worker finished before the kills"
    assert sum(len(s.running) for s in snapshots[1:]) > 0
    errored = {i: s.error for i, s in final.items() if s.status != "complete"}
    assert errored == {}, f"healthy instances quarantined or lost: {errored}"
    assert {i: s.output for i, s in final.items()} == {
        i: 100 * params(i)["n"] + 55 for i in final}
    lines = side_lines(side_log)
    for taken in snapshots:
        rerun = [(i, step) for i, step, _ in lines[taken.offset:]
                 if step in taken.done.get(i, set())]
        assert rerun == [], f"committed steps ran again after a kill: {rerun[:5]}"


async def test_a_crash_storm_quarantines_no_healthy_instance(tmp_path: Path) -> None:
    await storm(tmp_path, count=20, kills=5, seed=random.randrange(1 << 30))



@pytest.mark.slow
async def test_a_long_crash_storm_quarantines_no_healthy_instance(tmp_path: Path) -> None:
    await storm(tmp_path, count=100, kills=25, seed=random.randrange(1 << 30))


async def test_a_plan_that_kills_its_worker_is_quarantined_alone(tmp_path: Path) -> None:
    db, side_log = tmp_path / "killer.db", tmp_path / "side.log"
    exits = []
    for _ in range(6):
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, str(FAULT_WORKER), str(db), str(side_log), "killer"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, err = process.communicate(timeout=90)
        exits.append(process.returncode)
        if process.returncode == 0:
            break
        assert process.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert exits == [-signal.SIGKILL, -signal.SIGKILL, 0]
    async with ad.Engine.open(db, worker=False) as client:
        agent = client.agent(AGENT)
        killer = await (await agent.get("killer")).status()
        healthy = [await (await agent.get(i)).status() for i in instance_ids(10)]
    assert killer.status == "errored" and killer.error is not None
    assert killer.error.name == "QuarantinedError"
    assert sum(1 for i, _, _ in side_lines(side_log) if i == "killer") == 2
    assert [(s.status, s.output) for s in healthy] == [
        ("complete", expected_output(s.id)) for s in healthy]


# -- shutdown ----------------------------------------------------------------------------


def start_effects(db: Path, side_log: Path, *extra: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, str(FAULT_WORKER), str(db), str(side_log), "effects", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready"
    return process


def effects_of(side_log: Path) -> Counter[str]:
    """Effects by ``<instance>/<step>/<occurrence>`` (the idempotency key without its
    digest of agent and branch)."""
    if not side_log.exists():
        return Counter()
    return Counter(key.rsplit("-", 1)[0] for key in side_log.read_text().split())


async def test_sigterm_lets_running_effects_finish_and_commit(tmp_path: Path) -> None:
    db, side_log = tmp_path / "drain.db", tmp_path / "effects.log"
    process = start_effects(db, side_log, "--pause", "0.6")
    await anyio.sleep(0.3)  # every first effect is in flight, none done
    assert not effects_of(side_log)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()[-2000:]
    report = json.loads(out.decode().split("report ", 1)[1])
    assert report["handed_back"] == [] and len(report["finished"]) == 20
    first = effects_of(side_log)
    assert first and set(first.values()) == {1}
    # the second run finishes the work; no effect runs twice
    process = start_effects(db, side_log, "--pause", "0.01")
    async with ad.Engine.open(db, worker=False) as client:
        agent = client.agent(AGENT)
        statuses = [await (await agent.get(f"e{n:02d}")).wait(timeout=30)
                    for n in range(20)]
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert {s.status for s in statuses} == {"complete"}
    assert effects_of(side_log) == Counter(
        {f"e{n:02d}/{step}/1": 1 for n in range(20) for step in ("effect", "again")})


async def test_a_hung_tool_does_not_keep_the_worker_alive(tmp_path: Path) -> None:
    db, side_log = tmp_path / "hung.db", tmp_path / "effects.log"
    process = start_effects(db, side_log, "--pause", "0.01", "--grace", "0.5", "--hang")
    await anyio.sleep(0.5)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()[-2000:]
    assert time.monotonic() - started < 20
    report = json.loads(out.decode().split("report ", 1)[1])
    assert report["handed_back"] == [f"{AGENT}/hung"]
    async with ad.Engine.open(db, worker=False) as client:
        status = await (await client.agent(AGENT).get("hung")).status()
    assert status.status == "queued" and status.error is None
