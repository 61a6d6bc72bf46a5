"""Many worker processes on one PostgreSQL database (issue 11), with real processes.

- Three workers run instances whose steps append to a side log; one is SIGKILLed
  mid-run; the others finish its instances (after its leases expire): every instance
  completes with the output an uncrashed run gives, and no committed step runs again.
  Only the steps the dead worker had in flight may have run twice, and their first run
  is the dead worker's.
- A zombie: a worker SIGSTOPped past its lease while its tools run; another takes its
  instances over; SIGCONT: it commits nothing for them.
- Events and control requests sent by a client reach instances on whichever worker.

Each test uses a fresh schema; the full-size trial (2,000 instances) is marked slow.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from tests.conftest import PG_URL, pg_available
from tests.multiworker.pg_worker import make_tools

pytestmark = pytest.mark.skipif(not pg_available(),
                                reason=f"no PostgreSQL server answers at {PG_URL}")

WORKER = Path(__file__).with_name("pg_worker.py")
AGENT = "fleet"
LEASE = 1.5

CHAIN = '''
async def run(event, step):
    n = event.payload["n"]
    total = 0
    for k in range(5):
        await step.do("s" + str(k), lambda: tools.effect("i" + str(n) + ":s" + str(k), 0.01))
        total += 1
    return {"n": n, "total": total}
'''

ZOMBIE = '''
async def run(event, step):
    ran = await step.do("slow", lambda: tools.slow("z" + str(event.payload["n"]), 2.5),
                        timeout="1 minute")
    return ran["pid"]
'''

WAITER = '''
async def run(event, step):
    got = await step.wait_for_event("go", type="go", timeout="1 hour")
    done = await step.do("after", lambda: tools.effect("w" + str(event.payload["n"])))
    return {"got": got["payload"], "done": done}
'''


@contextlib.contextmanager
def workers(url: str, side_log: Path, count: int, *,
            concurrency: int = 16) -> Iterator[list[subprocess.Popen[bytes]]]:
    started = [start_worker(url, side_log, concurrency=concurrency) for _ in range(count)]
    try:
        yield started
    finally:
        for process in started:
            stop(process)


def start_worker(url: str, side_log: Path, *, concurrency: int = 16
                 ) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, str(side_log), "--lease", str(LEASE),
         "--concurrency", str(concurrency)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == b"ready", process.stderr.read() if process.stderr else line
    return process


def stop(process: subprocess.Popen[bytes]) -> bytes:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)
            process.terminate()
    try:
        _, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


def side_entries(side_log: Path) -> list[tuple[str, int, str]]:
    """``(key, pid, run)``: ``run`` is ``start`` for a slow tool starting, else the
    execution's id that its result carries."""
    return [(key, pid, run) for key, pid, run, _ in side_starts(side_log)]


def side_starts(side_log: Path) -> list[tuple[str, int, str, float]]:
    """``(key, pid, run, began)``; ``began`` (when the execution started) is 0.0 for the
    lines of a slow tool."""
    if not side_log.exists():
        return []
    entries = []
    for line in side_log.read_text().splitlines():
        key, pid, run, *began = line.split()
        entries.append((key, int(pid), run, float(began[0]) if began else 0.0))
    return entries


async def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await anyio.sleep(0.1)


async def register(client: ad.Engine, name: str, source: str) -> ad.AgentScope:
    """The fleet's agent on ``client``, with ``name`` registered (a client validates plans
    against the same tools the workers run; it never calls them)."""
    for tool, fn in make_tools(os.devnull).items():
        if tool not in client.tools:
            client.tools.register(tool, fn)
    scope = client.agent(AGENT, tools=["effect", "slow"])
    await scope.register_plan(name, source)
    return scope


async def sigkill_one_of_three(url: str, tmp_path: Path, count: int) -> None:
    side_log = tmp_path / "side.log"
    async with ad.Engine.open(url, worker=False) as client:
        scope = await register(client, "chain", CHAIN)
        for start in range(0, count, 100):
            await scope.create_batch({"plan": "chain", "params": {"n": n}, "id": f"i{n}"}
                                     for n in range(start, min(count, start + 100)))
        with workers(url, side_log, 3) as fleet:
            victim = fleet[0]
            # mid-run: a fifth of all steps done (and the victim has done some of them)
            await wait_until(lambda: _progress(side_log, count, victim.pid), 120,
                             "progress")
            victim.kill()
            victim.wait()

            await wait_until(lambda: _all_complete(scope, count), 300,
                             "every instance to complete")
        outputs = await _outputs(scope)
        committed = await _committed_runs(scope, count)
    assert outputs == {n: {"n": n, "total": 5} for n in range(count)}
    began: defaultdict[str, dict[str, float]] = defaultdict(dict)
    for key, _, run, at in side_starts(side_log):
        began[key][run] = at
    runs = {key: list(executions) for key, executions in began.items()}
    assert set(runs) == {f"i{n}:s{k}" for n in range(count) for k in range(5)}
    # No committed step ran again: an execution that starts after a step's commit would
    # start after the committed execution did. Executions that did not commit (the
    # victim's in flight, or those of a live worker that lost a lease under load, whose
    # commits were refused, and whose tool may still finish later) all started before
    # the execution that committed: it ran in an activation that claimed the instance
    # after them.
    assert committed.keys() == runs.keys()
    for key, executions in began.items():
        winner = committed[key]
        assert winner in executions, (key, executions, winner)
        later = [run for run, at in executions.items()
                 if run != winner and at > executions[winner]]
        assert not later, (key, executions, winner)
    assert any(run.startswith(f"{victim.pid}-") for runs_of in runs.values()
               for run in runs_of)


async def _committed_runs(scope: ad.AgentScope, count: int) -> dict[str, str]:
    committed: dict[str, str] = {}
    for n in range(count):
        status = await (await scope.get(f"i{n}")).status()
        for entry in status.steps:
            committed[f"i{n}:{entry.name}"] = entry.result
    return committed


async def _progress(side_log: Path, lines: int, pid: int) -> bool:
    entries = side_entries(side_log)
    return len(entries) >= lines and any(p == pid for _, p, _ in entries)


async def _pages(scope: ad.AgentScope, status: str | None = None
                 ) -> AsyncIterator[ad.InstanceStatus]:
    cursor = None
    while True:
        page = await scope.list(status, limit=1000, cursor=cursor)
        for item in page.items:
            yield item
        cursor = page.next_cursor
        if cursor is None:
            return


async def _all_complete(scope: ad.AgentScope, count: int) -> bool:
    return len([item async for item in _pages(scope, "complete")]) == count


async def _outputs(scope: ad.AgentScope) -> dict[int, object]:
    outputs: dict[int, object] = {}
    async for item in _pages(scope):
        assert item.status == "complete", item
        outputs[item.output["n"]] = item.output
    return outputs


@pytest.mark.anyio
async def test_sigkill_one_of_three_workers_loses_and_repeats_nothing(
        url: str, tmp_path: Path) -> None:
    await sigkill_one_of_three(url, tmp_path, 60)


@pytest.mark.slow
@pytest.mark.timeout(900)  # minutes on a loaded two-core machine
@pytest.mark.anyio
async def test_sigkill_one_of_three_workers_2000_instances(url: str, tmp_path: Path) -> None:
    await sigkill_one_of_three(url, tmp_path, 2000)


@pytest.mark.anyio
async def test_a_zombie_worker_commits_nothing_after_its_lease_was_taken(
        url: str, tmp_path: Path) -> None:
    side_log = tmp_path / "side.log"
    async with ad.Engine.open(url, worker=False) as client:
        scope = await register(client, "zombie", ZOMBIE)
        zombie = start_worker(url, side_log)
        try:
            for n in range(4):
                await scope.create("zombie", {"n": n}, id=f"z{n}")

            async def all_started() -> bool:
                return sum(1 for _, pid, run in side_entries(side_log)
                           if run == "start" and pid == zombie.pid) == 4

            await wait_until(all_started, 30, "the zombie to start every slow tool")
            os.kill(zombie.pid, signal.SIGSTOP)
            stopped_at = time.time()
            with workers(url, side_log, 1) as (heir,):
                async def all_complete() -> bool:
                    states = [(await (await scope.get(f"z{n}")).status()).status for n in range(4)]
                    return states == ["complete"] * 4

                await wait_until(all_complete, 60, "the heir to finish the instances")
                os.kill(zombie.pid, signal.SIGCONT)
                # the zombie's tools return now; give it time to try to commit them
                await anyio.sleep(LEASE + 1.5)
                for n in range(4):
                    status = await (await scope.get(f"z{n}")).status()
                    assert status.output == heir.pid
                    for entry in status.steps:
                        result = entry.result
                        assert not (isinstance(result, dict) and result.get("pid") ==
                                    zombie.pid and result.get("at", 0) > stopped_at), entry
                    (slow,) = [entry for entry in status.steps if entry.name == "slow"]
                    assert slow.result["pid"] == heir.pid
                assert zombie.poll() is None  # alive, and it wrote nothing
        finally:
            err = stop(zombie)
    assert b"took it over" in err, err.decode()[-2000:]


@pytest.mark.anyio
async def test_events_and_control_reach_instances_on_any_worker(
        url: str, tmp_path: Path) -> None:
    side_log = tmp_path / "side.log"
    async with ad.Engine.open(url, worker=False) as client:
        waiter = await register(client, "waiter", WAITER)
        await register(client, "zombie", ZOMBIE)
        with workers(url, side_log, 2) as fleet:
            for n in range(10):
                await waiter.create("waiter", {"n": n}, id=f"w{n}")
            hung = await waiter.create("zombie", {"n": 99}, id="long")

            async def all_waiting() -> bool:
                states = {(await (await waiter.get(f"w{n}")).status()).status for n in range(10)}
                return states == {"waiting"}

            await wait_until(all_waiting, 30, "every waiter to wait")
            for n in range(10):
                await (await waiter.get(f"w{n}")).send_event("go", {"n": n})
            await hung.terminate()
            for n in range(10):
                status = await (await waiter.get(f"w{n}")).wait(timeout=30)
                assert status.output["got"] == {"n": n}
                assert int(status.output["done"].split("-")[0]) in {
                    worker.pid for worker in fleet}
            assert (await hung.wait(timeout=30)).status == "terminated"
    pids = Counter(pid for key, pid, _ in side_entries(side_log) if key.startswith("w"))
    assert sum(pids.values()) == 10
