"""The workloads on our engine (agents_durable), real clock, default durability.

Completion is observed by polling the engine's SQLite file through a separate read-only
``sqlite3`` connection (WAL lets it read while the engine writes). That keeps the
measurement out of the engine's single store connection, which ``Instance.wait`` would
otherwise share with the work being measured. Per-step timestamps come from the journal
(``steps.started_at`` / ``ended_at``, written with the real clock).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import itertools
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from bench_plans import (
    LOGGED_STEPS,
    LOOP_FUNCTION,
    LOOP_PLAN,
    NAP,
    REPLAY,
    TRIVIAL_STEPS,
    WAIT_EVENT,
    big_plan,
)
from measure import peak_rss_kib, percentile, rss_kib, wait_for_count

import agents_durable as ad

__all__ = ["WORKLOADS", "settings"]

AGENT = "bench"
BATCH = 100  # create_batch's maximum


def settings() -> dict[str, Any]:
    """What our side runs with: the defaults a user gets."""
    engine = ad.Engine.open(":memory:")
    return {
        "concurrency": engine.concurrency,
        "poll_interval_s": engine.poll_interval,
        "journal_mode": "WAL",
        "synchronous": "NORMAL (store/sqlite.py default)",
        "clock": "real (SystemClock)",
        "instance_creation": "agent.create_batch, 100 per call",
    }


def _reader(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30,
                           check_same_thread=False)


def _finished_sql(prefix: str) -> str:
    return ("SELECT COUNT(*) FROM instances WHERE status IN ('complete', 'errored', "
            f"'terminated') AND id LIKE '{prefix}%'")


def _outcomes(reader: sqlite3.Connection, prefix: str) -> dict[str, int]:
    rows = reader.execute("SELECT status, COUNT(*) FROM instances WHERE id LIKE ? "
                          "GROUP BY status", (prefix + "%",)).fetchall()
    return {status: count for status, count in rows}


async def _create(agent: Any, plan: str, prefix: str, params: list[dict[str, Any]]) -> None:
    for start in range(0, len(params), BATCH):
        await agent.create_batch([
            {"plan": plan, "params": p, "id": f"{prefix}{start + offset}"}
            for offset, p in enumerate(params[start:start + BATCH])])


def _open(path: Path, *, tools: dict[str, Any] | None = None,
          worker: bool = True, isolation: str = "inline") -> tuple[ad.Engine, Any]:
    """An engine whose tools and grants are in place before the scheduler starts."""
    engine = ad.Engine.open(path, worker=worker, isolation=isolation)
    for name, fn in (tools or {}).items():
        engine.tools.register(name, fn)
    return engine, engine.agent(AGENT, tools=list(tools or {}))


# -- W1 throughput ---------------------------------------------------------------------------

async def w1(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """``instances`` x ``steps`` trivial steps, all started at once; wall time to done."""
    n, steps = cfg["instances"], cfg["steps"]
    path = workdir / "ours.db"
    engine, agent = _open(path, isolation=cfg.get("isolation", "inline"))
    async with engine:
        await agent.register_plan("steps", cfg.get("plan", TRIVIAL_STEPS))
        reader = _reader(path)
        baseline = rss_kib()
        started = time.perf_counter()
        await _create(agent, "steps", "w1-", [{"steps": steps}] * n)
        created = time.perf_counter()
        done = await wait_for_count(reader, _finished_sql("w1-"), n)
        outcomes = _outcomes(reader, "w1-")
    seconds = done - started
    return {
        "instances": n, "steps": n * steps, "seconds": seconds,
        "create_seconds": created - started,
        "steps_per_s": n * steps / seconds, "instances_per_s": n / seconds,
        "baseline_rss_mib": baseline / 1024, "peak_rss_mib": peak_rss_kib() / 1024,
        "completed": outcomes.get("complete", 0),
    }


# -- W2 latency --------------------------------------------------------------------------------

async def w2(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """One instance at a time; ms between consecutive step bodies, from the journal."""
    reps, steps, warmup = cfg["reps"], cfg["steps"], cfg.get("warmup", 3)
    path = workdir / "ours.db"
    engine, agent = _open(path, isolation=cfg.get("isolation", "inline"))
    instance_ms: list[float] = []
    async with engine:
        await agent.register_plan("steps", TRIVIAL_STEPS)
        for r in range(warmup + reps):
            # engine.watch() is set when the activation ends, with no store query, so
            # waiting does not compete with the steps being timed (Instance.wait would).
            finished = engine.watch(AGENT, f"w2-{r}")
            started = time.perf_counter()
            await agent.create("steps", {"steps": steps}, id=f"w2-{r}")
            with anyio.fail_after(60):
                await finished.wait()
            if r >= warmup:
                instance_ms.append((time.perf_counter() - started) * 1000)
        reader = _reader(path)
        outcomes = _outcomes(reader, "w2-")
        if outcomes.get("complete", 0) != warmup + reps:
            raise RuntimeError(f"W2 instances did not all complete: {outcomes}")
        rows = reader.execute(
            "SELECT i.id, s.seq, s.ended_at FROM steps s JOIN instances i "
            "ON i.pk = s.instance_pk ORDER BY i.pk, s.seq").fetchall()
    ended: dict[str, list[float]] = {}
    for instance_id, _seq, ended_at in rows:
        if int(instance_id.split("-")[1]) >= warmup:
            ended.setdefault(instance_id, []).append(ended_at)
    deltas = [(later - earlier) * 1000 for times in ended.values()
              for earlier, later in itertools.pairwise(times)]
    return {
        "reps": reps, "steps_per_instance": steps,
        "step_ms_p50": percentile(deltas, 0.5), "step_ms_p90": percentile(deltas, 0.9),
        "instance_ms_p50": percentile(instance_ms, 0.5),
        "instance_ms_per_step_p50": percentile(instance_ms, 0.5) / steps,
    }


# -- W3 hibernation ----------------------------------------------------------------------------

async def w3(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Many instances asleep at once until a shared due time; memory, then the wake-up.

    A warm-up batch (due in the past) measures how long starting an instance takes, so the
    shared due time can be set about 1 s after the last instance should have gone to sleep.
    """
    n = cfg["instances"]
    warm = max(1, min(200, n // 5))
    path = workdir / "ours.db"
    engine, agent = _open(path)
    async with engine:
        await agent.register_plan("nap", NAP)
        reader = _reader(path)
        t = time.perf_counter()
        await _create(agent, "nap", "warm-", [{"due": 0}] * warm)
        await wait_for_count(reader, _finished_sql("warm-"), warm)
        per_instance = (time.perf_counter() - t) / warm
        baseline, blocks = rss_kib(), sys.getallocatedblocks()
        ramp_budget = n * per_instance * 1.2
        due = time.time() + ramp_budget + cfg.get("sleep_s", 1.0)
        start = time.perf_counter()
        await _create(agent, "nap", "w3-", [{"due": due}] * n)
        sleeping_sql = "SELECT COUNT(*) FROM instances WHERE status = 'waiting'"
        deadline = due - 0.2
        while time.time() < deadline:  # in a thread, like wait_for_count (measure.py)
            (sleeping,) = await asyncio.to_thread(lambda: reader.execute(sleeping_sql).fetchone())
            if sleeping >= n:
                break
            await asyncio.sleep(0.01)
        ramp = time.perf_counter() - start
        await asyncio.sleep(max(0.0, min(0.1, deadline - time.time())))
        (sleeping,) = reader.execute(sleeping_sql).fetchone()
        sleeping_rss, sleeping_blocks = rss_kib(), sys.getallocatedblocks()
        gc.collect()
        live_blocks = sys.getallocatedblocks()
        await wait_for_count(reader, _finished_sql("w3-"), n, interval=0.01)
        done_at = [row[0] for row in reader.execute(
            "SELECT updated_at FROM instances WHERE id LIKE 'w3-%' AND status = 'complete'")]
        outcomes = _outcomes(reader, "w3-")
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
        "completed": outcomes.get("complete", 0), "peak_rss_mib": peak_rss_kib() / 1024,
    }


# -- W4 events -----------------------------------------------------------------------------------

async def w4(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Instances parked on wait_for_event; send one event to each; send-to-resume time."""
    n = cfg["instances"]
    path = workdir / "ours.db"
    engine, agent = _open(path)
    async with engine:
        await agent.register_plan("wait", WAIT_EVENT)
        reader = _reader(path)
        await _create(agent, "wait", "w4-", [{}] * n)
        await wait_for_count(reader, "SELECT COUNT(*) FROM instances WHERE status = 'waiting'",
                             n, interval=0.01)
        sent: dict[str, float] = {}
        for i in range(n):
            instance = await agent.get(f"w4-{i}")
            sent[instance.id] = time.time()
            await instance.send_event("go", {"i": i})
        await wait_for_count(reader, _finished_sql("w4-"), n)
        resumed = dict(reader.execute(
            "SELECT i.id, s.started_at FROM steps s JOIN instances i ON i.pk = s.instance_pk "
            "WHERE s.name = 'after'").fetchall())
    latency = [(resumed[k] - sent[k]) * 1000 for k in sent if k in resumed]
    return {
        "instances": n, "resumed": len(latency),
        "latency_ms_p50": percentile(latency, 0.5), "latency_ms_p99": percentile(latency, 0.99),
        "latency_ms_max": max(latency) if latency else float("nan"),
    }


# -- W5 recovery (two processes; driven by recovery.py) ----------------------------------------

def _side_log(path: Path) -> Any:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    async def log(instance_id: str, k: int) -> int:
        """Append one line per executed step body (O_APPEND: survives kill -9)."""
        os.write(fd, f"{instance_id} {k}\n".encode())
        return k

    return log


async def w5_run(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Create every instance (as a client), then run them until the parent kills us."""
    n, steps = cfg["instances"], cfg["steps"]
    path = workdir / "ours.db"
    tools = {"bench.log": _side_log(workdir / "side.log")}
    client, agent = _open(path, tools=tools, worker=False)
    async with client:
        await agent.register_plan("logged", LOGGED_STEPS)
        await _create(agent, "logged", "w5-", [{"steps": steps}] * n)
    (workdir / "created").touch()
    engine, _ = _open(path, tools=tools)
    async with engine:
        await asyncio.sleep(3600)  # killed with SIGKILL by the parent long before this
    return {}


async def w5_recover(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Open the engine on the crashed database; time until every instance has finished."""
    n = cfg["instances"]
    path = workdir / "ours.db"
    started = time.perf_counter()
    engine, _ = _open(path, tools={"bench.log": _side_log(workdir / "side.log")})
    async with engine:
        opened = time.perf_counter()
        reader = _reader(path)
        done = await wait_for_count(reader, _finished_sql("w5-"), n)
        outcomes = _outcomes(reader, "w5-")
    return {"recover_seconds": done - started, "open_seconds": opened - started,
            "completed": outcomes.get("complete", 0), "outcomes": outcomes}


def committed_steps(workdir: Path) -> set[tuple[str, int]]:
    """(instance id, step index) of every step whose result is committed in the database."""
    connection = sqlite3.connect(workdir / "ours.db", timeout=30)
    try:
        rows = connection.execute(
            "SELECT i.id, s.name FROM steps s JOIN instances i ON i.pk = s.instance_pk "
            "WHERE s.state = 'done'").fetchall()
    finally:
        connection.close()
    return {(instance_id, int(name.split()[1])) for instance_id, name in rows}


# -- micro-benchmarks -----------------------------------------------------------------------------

async def micro(cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Replay of a long journal, cached plan load, sandbox overhead, validate + compile."""
    from agents_durable.engine._activation import Activation
    from agents_durable.plans._compile import compile_plan
    from agents_durable.store import Journal

    path = workdir / "ours.db"
    engine, agent = _open(path)
    result: dict[str, Any] = {}
    async with engine:
        # Replay: the instance records `replay_steps` steps, then waits for an event. Each
        # Activation.run() below replays the whole journal and suspends again, writing
        # nothing, so it can be timed repeatedly.
        steps = cfg["replay_steps"]
        version = await agent.register_plan("replay", REPLAY)
        instance = await agent.create("replay", {"steps": steps}, id="replay")
        reader = _reader(path)
        await wait_for_count(reader, "SELECT COUNT(*) FROM instances WHERE id = 'replay' "
                             "AND status = 'waiting'", 1, interval=0.01)
        record = await engine.store.get_instance(AGENT, "replay")
        assert record is not None
        plan = await engine.load_plan(record.plan_hash)
        loads, replays = [], []
        for _ in range(cfg["replay_reps"]):
            t0 = time.perf_counter()
            journal = await engine.store.load_journal(record.pk)
            t1 = time.perf_counter()
            finish = await Activation(engine, record, plan, journal, frozenset()).run()
            t2 = time.perf_counter()
            if finish.status != "waiting":
                raise RuntimeError(f"replay ended {finish.status}: {finish.error}")
            loads.append((t1 - t0) * 1000)
            replays.append((t2 - t1) * 1000)
        t0 = time.perf_counter()
        await instance.send_event("go", {})
        final = await instance.wait(timeout=60)
        result.update({
            "replay_steps": steps, "replay_ms": percentile(replays, 0.5),
            "journal_load_ms": percentile(loads, 0.5),
            "resume_e2e_ms": (time.perf_counter() - t0) * 1000,
            "resume_status": final.status,
        })

        # Cached plan load: Engine.load_plan on a hash already compiled in this process.
        reps = cfg["plan_load_reps"]
        await engine.load_plan(version.hash)
        t0 = time.perf_counter()
        for _ in range(reps):
            await engine.load_plan(version.hash)
        result["plan_load_us"] = (time.perf_counter() - t0) / reps * 1e6

        # Sandbox overhead: the same loop in a plan activation and in plain CPython.
        n = cfg["loop_n"]
        await agent.register_plan("loop", LOOP_PLAN)
        await agent.create("loop", {"n": 1}, id="loop")
        await wait_for_count(reader, _finished_sql("loop"), 1, interval=0.01)
        loop_record = await engine.store.get_instance(AGENT, "loop")
        assert loop_record is not None
        loop_record = dataclasses.replace(loop_record, params=json.dumps({"n": n}))
        loop_plan = await engine.load_plan(loop_record.plan_hash)
        sandboxed, plain = [], []
        namespace: dict[str, Any] = {}
        exec(compile(LOOP_FUNCTION, "<plain>", "exec"), namespace)
        work = namespace["work"]
        expected = work(n)
        for _ in range(cfg["loop_reps"]):
            t0 = time.perf_counter()
            finish = await Activation(engine, loop_record, loop_plan, Journal(),
                                      frozenset()).run()
            t1 = time.perf_counter()
            if finish.status != "complete" or finish.output != str(expected):
                raise RuntimeError(f"loop plan ended {finish.status}: {finish.error}")
            work(n)
            t2 = time.perf_counter()
            sandboxed.append((t1 - t0) * 1000)
            plain.append((t2 - t1) * 1000)
        result.update({
            "loop_n": n, "loop_sandbox_ms": percentile(sandboxed, 0.5),
            "loop_plain_ms": percentile(plain, 0.5),
            "sandbox_ratio": percentile(sandboxed, 0.5) / percentile(plain, 0.5),
        })
        reader.close()

    # Validate + compile a 200-line plan (a new hash each time: no cache hit).
    compiles, validates = [], []
    for salt in range(cfg["compile_reps"]):
        source = big_plan(200, salt=salt)
        t0 = time.perf_counter()
        ad.validate_plan(source)
        t1 = time.perf_counter()
        compile_plan(big_plan(200, salt=salt + 100_000))
        t2 = time.perf_counter()
        validates.append((t1 - t0) * 1000)
        compiles.append((t2 - t1) * 1000)
    result.update({"plan_lines": 200, "validate_ms": percentile(validates, 0.5),
                   "compile_ms": percentile(compiles, 0.5)})
    return result


WORKLOADS = {"w1": w1, "w2": w2, "w3": w3, "w4": w4, "w5_run": w5_run,
             "w5_recover": w5_recover, "micro": micro}
