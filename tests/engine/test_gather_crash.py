"""SIGKILL in the middle of gathers: every instance replays to the uncrashed result.

Gather branches interleave differently on every run and on every replay after a kill; the
branch-scoped step identity must replay them all, and a step committed before a kill must
never run again after it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from tests.engine.gather_crash_worker import AGENT, expected_output

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).with_name("gather_crash_worker.py")


def _start(db: Path, log: Path, count: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(WORKER), str(db), str(log), "--count",
                             str(count)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


async def _committed(agent: ad.AgentScope) -> set[tuple[str, str, int]]:
    done = set()
    for item in (await agent.list(limit=1000)).items:
        history = await (await agent.get(item.id)).history()
        done |= {(item.id, s.name, s.occurrence) for s in history.steps
                 if s.kind == "do" and s.state == "done"}
    return done


async def _running(agent: ad.AgentScope) -> set[str]:
    return {item.id for item in (await agent.list(limit=1000)).items
            if item.status == "running"}


async def _progressed(agent: ad.AgentScope, ids: set[str],
                      before: set[tuple[str, str, int]]) -> bool:
    now = await _committed(agent)
    for instance_id in ids:
        status = await (await agent.get(instance_id)).status()
        if not status.finished and not {k for k in now - before if k[0] == instance_id}:
            return False
    return True


def _key(line: str) -> tuple[str, str, int]:
    instance, name, occurrence = line.split("\t")[0].split("/")
    return instance, name, int(occurrence.split("-")[0])


@pytest.mark.parametrize("seed", [1, 2])
async def test_sigkill_during_gathers(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    count = 20
    db, log = tmp_path / "g.db", tmp_path / "side.log"
    total = count * 6
    kills = sorted(rng.sample(range(total // 8, total * 2 // 3), 3))
    snapshots: list[tuple[int, set[tuple[str, str, int]]]] = []
    process = _start(db, log, count)
    async with ad.Engine.open(db, worker=False) as client:
        agent = client.agent(AGENT)
        for target in kills:
            with anyio.fail_after(60):
                while len(_lines(log)) < target and process.poll() is None:
                    await anyio.sleep(0.003)
            if process.poll() is not None:
                break
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            process.stdout.close()  # type: ignore[union-attr]
            process.stderr.close()  # type: ignore[union-attr]
            committed = await _committed(agent)
            snapshots.append((len(_lines(log)), committed))
            in_flight = await _running(agent)
            process = _start(db, log, count)
            # Kill again only once every instance caught in flight made progress (committed
            # a step or finished): one that an outside kill catches twice inside the same
            # tool call, without progress, looks like a plan that kills its worker and is
            # rightly quarantined (tests/faults covers that).
            with anyio.fail_after(60):
                while process.poll() is None and not await _progressed(agent, in_flight,
                                                                       committed):
                    await anyio.sleep(0.01)
        with anyio.fail_after(120):
            while process.poll() is None:
                await anyio.sleep(0.05)
        _, err = process.communicate()
        assert process.returncode == 0, err.decode()[-2000:]
        assert snapshots, "the worker finished before any kill"
        for n in range(count):
            status = await (await agent.get(f"g-{n:03d}")).status()
            assert status.status == "complete", (n, status.error)
            assert status.output == expected_output(n * 10)
    lines = _lines(log)
    for offset, committed in snapshots:
        rerun = [_key(line) for line in lines[offset:] if _key(line) in committed]
        assert rerun == [], f"committed steps ran again after a kill: {rerun[:5]}"
