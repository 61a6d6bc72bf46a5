"""A parent replayed after its worker was killed while its child ran: one child, never two."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from tests.evolve.child_crash_worker import AGENT

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).with_name("child_crash_worker.py")


def start_worker(db: str | Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(WORKER), str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill(worker: subprocess.Popen[bytes]) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


async def test_a_parent_replayed_after_a_crash_starts_one_child(db: str | Path) -> None:
    if isinstance(db, str):  # PostgreSQL: a short lease, so the recovery takes over soon
        db = f"{db}&lease=1"
    worker = start_worker(db)
    try:
        deadline = time.monotonic() + 30
        children: list[ad.InstanceStatus] = []
        while time.monotonic() < deadline and not children:
            await anyio.sleep(0.05)
            if isinstance(db, Path) and not db.exists():
                continue
            try:
                async with ad.Engine.open(db, worker=False) as client:
                    children = (await client.agent(AGENT).list(plan="child")).items
            except ad.StoreError:  # the worker is still creating the file
                children = []
        assert children, "the worker never started the child"
    finally:
        kill(worker)
    assert worker.returncode == -signal.SIGKILL  # killed while the child still slept

    async with ad.Engine.open(db) as engine:  # recovery: the parent replays
        agent = engine.agent(AGENT)
        parent = await agent.get("parent")
        status = await parent.wait(timeout=30)
        assert status.output == {"first": 2}
        children = (await agent.list(plan="child")).items
    assert [c.status for c in children] == ["complete"]
