"""The same workloads on DBOS Transact (``dbos`` from PyPI), SQLite system database.

DBOS is used through its own async API: ``@DBOS.workflow()`` / ``@DBOS.step()`` on async
functions, ``DBOS.start_workflow_async``, ``DBOS.sleep_async``, ``DBOS.recv_async`` /
``DBOS.send_async``. Its SQLite database is put in WAL mode with the same
``synchronous`` level as ours (NORMAL unless ``BENCH_DBOS_SYNCHRONOUS`` says otherwise) by
a SQLAlchemy connect hook installed before DBOS creates its engine; everything else is
DBOS's default (pool size, 1 s notification polling on SQLite).

Importing this module registers the workflows, so both W5 processes (the one that is
killed and the one that recovers) register the same code and so the same app version.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import itertools
import os
import pickle
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from measure import peak_rss_kib, percentile, rss_kib, wait_for_count
from sqlalchemy import event as sa_event

__all__ = ["WORKLOADS", "committed_steps", "settings"]

SYNCHRONOUS = os.environ.get("BENCH_DBOS_SYNCHRONOUS", "NORMAL").upper()


@sa_event.listens_for(sa.engine.Engine, "connect")
def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute(f"PRAGMA synchronous={SYNCHRONOUS}")


from dbos import DBOS, SetWorkflowID  # noqa: E402  (after the connect hook)

#: Per-process instrumentation the step bodies write to (not durable, not needed to be).
_marks: dict[str, list[float]] = {}
_sleepers = 0
_side_log_fd: int | None = None


@DBOS.step()
async def trivial(k: int) -> int:
    return k


@DBOS.step()
async def timed(key: str, k: int) -> int:
    _marks.setdefault(key, []).append(time.time())
    return k


@DBOS.step()
async def logged(key: str, k: int) -> int:
    assert _side_log_fd is not None
    os.write(_side_log_fd, f"{key} {k}\n".encode())
    return k


@DBOS.workflow()
async def trivial_steps(steps: int) -> int:
    total = 0
    for k in range(steps):
        total += await trivial(k)
    return total


@DBOS.workflow()
async def timed_steps(key: str, steps: int) -> int:
    total = 0
    for k in range(steps):
        total += await timed(key, k)
    return total


@DBOS.workflow()
async def logged_steps(key: str, steps: int) -> int:
    total = 0
    for k in range(steps):
        total += await logged(key, k)
    return total


@DBOS.workflow()
async def nap(key: str, due: float) -> int:
    global _sleepers
    _sleepers += 1
    await DBOS.sleep_async(max(0.0, due - time.time()))
    return await timed(key, 0)


@DBOS.workflow()
async def wait_event(key: str) -> Any:
    global _sleepers
    _sleepers += 1
    message = await DBOS.recv_async("go", timeout_seconds=3600)
    await timed(key, 0)
    return message


def settings() -> dict[str, Any]:
    """What DBOS runs with in these benchmarks."""
    return {
        "journal_mode": "WAL (set by a connect hook)",
        "synchronous": f"{SYNCHRONOUS} (set by a connect hook; BENCH_DBOS_SYNCHRONOUS)",
        "sys_db_pool_size": "default",
        "notification_listener_polling_interval_sec": "default (1.0 on SQLite)",
        "api": "async: DBOS.start_workflow_async, DBOS.step/workflow on async def, "
               "sleep_async, send_async/recv_async",
        "instance_creation": "DBOS.start_workflow_async, one per call",
    }


def _launch(path: Path) -> None:
    # BENCH_DBOS_URL (postgresql://...) runs DBOS on PostgreSQL instead (pg_fleet.py)
    url = os.environ.get("BENCH_DBOS_URL") or f"sqlite:///{path}"
    DBOS(config={"name": "bench", "system_database_url": url, "log_level": "WARNING"})
    DBOS.launch()


def _reader(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30,
                           check_same_thread=False)


def _finished_sql(prefix: str) -> str:
    return ("SELECT COUNT(*) FROM workflow_status WHERE status IN ('SUCCESS', 'ERROR') "
            f"AND workflow_uuid LIKE '{prefix}%'")


async def _start(workflow: Any, workflow_id: str, *args: Any) -> Any:
    with SetWorkflowID(workflow_id):
        return await DBOS.start_workflow_async(workflow, *args)


# -- W1 ------------------------------------------------------------------------------------

async def w1(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    n, steps = cfg["instances"], cfg["steps"]
    _launch(workdir / "dbos.sqlite")
    try:
        baseline = rss_kib()
        started = time.perf_counter()
        handles = [await _start(trivial_steps, f"w1-{i}", steps) for i in range(n)]
        created = time.perf_counter()
        results = await asyncio.gather(*(h.get_result() for h in handles))
        seconds = time.perf_counter() - started
    finally:
        DBOS.destroy()
    return {
        "instances": n, "steps": n * steps, "seconds": seconds,
        "create_seconds": created - started,
        "steps_per_s": n * steps / seconds, "instances_per_s": n / seconds,
        "baseline_rss_mib": baseline / 1024, "peak_rss_mib": peak_rss_kib() / 1024,
        "completed": sum(1 for r in results if r == sum(range(steps))),
    }


# -- W2 ------------------------------------------------------------------------------------

async def w2(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    reps, steps, warmup = cfg["reps"], cfg["steps"], cfg.get("warmup", 3)
    _launch(workdir / "dbos.sqlite")
    instance_ms: list[float] = []
    try:
        for r in range(warmup + reps):
            started = time.perf_counter()
            handle = await _start(timed_steps, f"w2-{r}", f"w2-{r}", steps)
            await handle.get_result()
            if r >= warmup:
                instance_ms.append((time.perf_counter() - started) * 1000)
    finally:
        DBOS.destroy()
    deltas = [(later - earlier) * 1000 for key, times in _marks.items()
              if int(key.split("-")[1]) >= warmup
              for earlier, later in itertools.pairwise(times)]
    return {
        "reps": reps, "steps_per_instance": steps,
        "step_ms_p50": percentile(deltas, 0.5), "step_ms_p90": percentile(deltas, 0.9),
        "instance_ms_p50": percentile(instance_ms, 0.5),
        "instance_ms_per_step_p50": percentile(instance_ms, 0.5) / steps,
    }


# -- W3 ------------------------------------------------------------------------------------

async def w3(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    n = cfg["instances"]
    warm = max(1, min(200, n // 5))
    path = workdir / "dbos.sqlite"
    _launch(path)
    try:
        t = time.perf_counter()
        warm_handles = [await _start(nap, f"warm-{i}", f"warm-{i}", 0.0) for i in range(warm)]
        await asyncio.gather(*(h.get_result() for h in warm_handles))
        per_instance = (time.perf_counter() - t) / warm
        baseline, blocks = rss_kib(), sys.getallocatedblocks()
        global _sleepers
        _sleepers = 0
        due = time.time() + n * per_instance * 1.2 + cfg.get("sleep_s", 1.0)
        start = time.perf_counter()
        handles = [await _start(nap, f"w3-{i}", f"w3-{i}", due) for i in range(n)]
        deadline = due - 0.2
        while time.time() < deadline and _sleepers < n:
            await asyncio.sleep(0.01)
        ramp = time.perf_counter() - start
        await asyncio.sleep(max(0.0, min(0.1, deadline - time.time())))
        sleeping, sleeping_rss = _sleepers, rss_kib()
        sleeping_blocks = sys.getallocatedblocks()
        gc.collect()
        live_blocks = sys.getallocatedblocks()
        await asyncio.gather(*(h.get_result() for h in handles))
        reader = _reader(path)
        done_at = [row[0] / 1000 for row in reader.execute(
            "SELECT updated_at FROM workflow_status WHERE workflow_uuid LIKE 'w3-%' "
            "AND status = 'SUCCESS'")]
        reader.close()
    finally:
        DBOS.destroy()
    lateness = [t - due for t in done_at]
    return {
        "instances": n, "sleeping_at_sample": sleeping,
        "all_sleeping_before_due": sleeping >= n, "ramp_seconds": ramp,
        "rss_above_baseline_mib": (sleeping_rss - baseline) / 1024,
        "rss_per_sleeper_kib": (sleeping_rss - baseline) / max(sleeping, 1),
        "py_blocks_per_sleeper": (sleeping_blocks - blocks) / max(sleeping, 1),
        "py_blocks_per_sleeper_after_gc": (live_blocks - blocks) / max(sleeping, 1),
        "all_done_after_due_s": max(lateness) if lateness else float("nan"),
        "lateness_p50_s": percentile(lateness, 0.5),
        "lateness_p99_s": percentile(lateness, 0.99),
        "completed": len(done_at), "peak_rss_mib": peak_rss_kib() / 1024,
    }


# -- W4 ------------------------------------------------------------------------------------

async def w4(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    n = cfg["instances"]
    _launch(workdir / "dbos.sqlite")
    try:
        global _sleepers
        _sleepers = 0
        handles = [await _start(wait_event, f"w4-{i}", f"w4-{i}") for i in range(n)]
        while _sleepers < n:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # let each recv register its waiter and record its timeout
        sent: dict[str, float] = {}
        for i in range(n):
            sent[f"w4-{i}"] = time.time()
            await DBOS.send_async(f"w4-{i}", {"i": i}, topic="go")
        await asyncio.gather(*(h.get_result() for h in handles))
    finally:
        DBOS.destroy()
    latency = [(_marks[k][0] - sent[k]) * 1000 for k in sent if k in _marks]
    return {
        "instances": n, "resumed": len(latency),
        "latency_ms_p50": percentile(latency, 0.5), "latency_ms_p99": percentile(latency, 0.99),
        "latency_ms_max": max(latency) if latency else float("nan"),
    }


# -- W5 --------------------------------------------------------------------------------------

def _open_side_log(workdir: Path) -> None:
    global _side_log_fd
    _side_log_fd = os.open(workdir / "side.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                           0o644)


async def w5_run(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    n, steps = cfg["instances"], cfg["steps"]
    _open_side_log(workdir)
    _launch(workdir / "dbos.sqlite")
    handles = [await _start(logged_steps, f"w5-{i}", f"w5-{i}", steps) for i in range(n)]
    (workdir / "created").touch()
    await asyncio.gather(*(h.get_result() for h in handles))
    await asyncio.sleep(3600)  # killed with SIGKILL by the parent long before this
    return {}


async def w5_recover(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    n = cfg["instances"]
    path = workdir / "dbos.sqlite"
    _open_side_log(workdir)
    started = time.perf_counter()
    _launch(path)  # recovers this executor's pending workflows
    opened = time.perf_counter()
    try:
        reader = _reader(path)
        done = await wait_for_count(reader, _finished_sql("w5-"), n)
        rows = reader.execute("SELECT status, COUNT(*) FROM workflow_status WHERE "
                              "workflow_uuid LIKE 'w5-%' GROUP BY status").fetchall()
        reader.close()
    finally:
        DBOS.destroy()
    outcomes = {status: count for status, count in rows}
    return {"recover_seconds": done - started, "open_seconds": opened - started,
            "completed": outcomes.get("SUCCESS", 0), "outcomes": outcomes}


def committed_steps(workdir: Path) -> set[tuple[str, int]]:
    """(workflow id, step index) of every step whose output DBOS has committed."""
    connection = sqlite3.connect(workdir / "dbos.sqlite", timeout=30)
    try:
        rows = connection.execute(
            "SELECT workflow_uuid, output, serialization FROM operation_outputs "
            "WHERE function_name LIKE '%logged' AND error IS NULL").fetchall()
    finally:
        connection.close()
    committed = set()
    for workflow_id, output, serialization in rows:
        if serialization != "py_pickle":
            raise RuntimeError(f"unexpected DBOS serialization {serialization!r}")
        committed.add((workflow_id, int(pickle.loads(base64.b64decode(output)))))
    return committed


WORKLOADS = {"w1": w1, "w2": w2, "w3": w3, "w4": w4, "w5_run": w5_run,
             "w5_recover": w5_recover}
