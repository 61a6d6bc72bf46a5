"""W1, W2, W4, W5 on PostgreSQL with 1, 2 and 4 worker processes, DBOS on the same server,
and the raw PostgreSQL floor: ``python benchmarks/pg_fleet.py [--quick] [--workers 1,2,4]``.

Every (workload, worker count) round gets a fresh schema and fresh worker processes
(``pg_fleet.py --worker URL SIDE_LOG``, each ``Engine.open(url)`` with its defaults:
``concurrency=64``, lease 10 s, pool 10). A client process creates the instances
(``create_batch``, 100 per call), sends events, and watches completion with its own
asyncpg connection polling every 5 ms, so waiting does not compete with the workers.

- W1: 1,000 instances x 10 trivial steps, all created at once: steps/s, first create to
  last completion.
- W2: one instance of 10 trivial steps at a time, 50 times: ms between consecutive steps'
  ``ended_at`` in the journal (p50, p90).
- W4: 100 instances wait for an event on the workers; the client sends each its event:
  ms from just before the send (client) to the start of the step after the wait (worker,
  ``started_at`` in the journal), p50 and p99: event to resume across processes. Sent
  back to back (a burst, ``latency_*``), then 50 more one at a time 20 ms apart
  (``alone_*``: one event's latency when resumes do not queue behind each other).
- W5: 1,000 instances x 10 logged steps; SIGKILL one worker when half the steps ran
  (with one worker, start a new one at once): seconds from the kill to all done, with the
  default lease; steps whose side-log entry appears twice (re-executed).
- DBOS (``dbos_side.py`` with ``BENCH_DBOS_URL`` pointing at a database of this server):
  W1, W2 and W4 in one process, DBOS's defaults.
- floor: asyncpg, no engine: 1 row per commit, and 100 rows per commit.

Prints a Markdown table and writes JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

DEFAULT_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
AGENT = "bench"


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the worker process ---------------------------------------------------------------------

async def worker_main(url: str, side_log: str) -> None:
    import anyio

    import agents_durable as ad

    note = os.open(side_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def log(instance: str, k: int) -> int:
        os.write(note, f"{instance} {k}\n".encode())
        return k

    engine = ad.Engine.open(url)
    engine.tools.register("bench.log", log)
    engine.agent(AGENT, tools=["bench.log"])
    async with engine:
        print("ready", flush=True)
        with anyio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                break


def spawn(url: str, side_log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, __file__, "--worker", url, str(side_log)],
                               stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready"
    return process


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


# -- the client side ----------------------------------------------------------------------------

class Round:
    """A fresh schema, a client engine, a watcher connection, N workers."""

    def __init__(self, base: str, workers: int, workdir: Path) -> None:
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"
        self.url = f"{base}{'&' if '?' in base else '?'}schema={self.schema}"
        self.base, self.count, self.side_log = base, workers, workdir / f"{self.schema}.log"
        self.workers: list[subprocess.Popen[bytes]] = []

    async def __aenter__(self) -> Round:
        import asyncpg
        from bench_plans import LOGGED_STEPS, TRIVIAL_STEPS, WAIT_EVENT

        import agents_durable as ad

        self.client = ad.Engine.open(self.url, worker=False)
        await self.client.__aenter__()

        async def log(instance: str, k: int) -> int:
            return k

        self.client.tools.register("bench.log", log)
        self.agent = self.client.agent(AGENT, tools=["bench.log"])
        for name, source in (("trivial", TRIVIAL_STEPS), ("logged", LOGGED_STEPS),
                             ("wait", WAIT_EVENT)):
            await self.agent.register_plan(name, source)
        self.watch = await asyncpg.connect(self.base, server_settings={
            "search_path": self.schema})
        self.workers = [spawn(self.url, self.side_log) for _ in range(self.count)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        stop(self.workers)
        await self.watch.close()
        await self.client.__aexit__(None, None, None)
        import asyncpg

        conn = await asyncpg.connect(self.base)
        await conn.execute(f'DROP SCHEMA "{self.schema}" CASCADE')
        await conn.close()

    async def create(self, plan: str, params: list[dict[str, Any]], prefix: str) -> None:
        for start in range(0, len(params), 100):
            await self.agent.create_batch(
                {"plan": plan, "params": p, "id": f"{prefix}{start + i}"}
                for i, p in enumerate(params[start:start + 100]))

    async def until(self, sql: str, target: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while await self.watch.fetchval(sql) < target:
            if time.monotonic() > deadline:
                raise TimeoutError(sql)
            await asyncio.sleep(0.005)


_DONE = "SELECT count(*) FROM instances WHERE status = 'complete' AND id LIKE '{}%'"


async def w1(r: Round, n: int, steps: int) -> dict[str, Any]:
    started = time.perf_counter()
    await r.create("trivial", [{"steps": steps}] * n, "w1-")
    await r.until(_DONE.format("w1-"), n)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "steps_per_s": n * steps / seconds}


async def w2(r: Round, reps: int, steps: int) -> dict[str, Any]:
    for i in range(reps + 3):
        await r.create("trivial", [{"steps": steps}], f"w2-{i}-")
        await r.until(_DONE.format(f"w2-{i}-"), 1)
    rows = await r.watch.fetch(
        "SELECT i.id, s.ended_at FROM steps s JOIN instances i ON i.pk = s.instance_pk "
        "WHERE i.id LIKE 'w2-%' ORDER BY i.id, s.seq")
    by_instance: dict[str, list[float]] = {}
    for instance, ended in rows:
        if int(instance.split("-")[1]) >= 3:  # three warm-up instances
            by_instance.setdefault(instance, []).append(ended)
    gaps = [(b - a) * 1000 for ends in by_instance.values() for a, b in itertools.pairwise(ends)]
    return {"step_ms_p50": _percentile(gaps, 0.5), "step_ms_p90": _percentile(gaps, 0.9)}


async def w4(r: Round, n: int) -> dict[str, Any]:
    """Events sent back to back (a burst: resumes queue behind each other), then one at a
    time 20 ms apart (the latency of one event alone)."""
    burst = await _w4(r, n, "w4-", 0.0)
    alone = await _w4(r, n // 2, "w4a-", 0.02)
    return {**burst, **{key.replace("latency", "alone"): value
                        for key, value in alone.items()}}


async def _w4(r: Round, n: int, prefix: str, gap: float) -> dict[str, Any]:
    await r.create("wait", [{}] * n, prefix)
    await r.until("SELECT count(*) FROM instances WHERE status = 'waiting' AND "
                  f"id LIKE '{prefix}%'", n)
    sent: dict[str, float] = {}
    for i in range(n):
        handle = await r.agent.get(f"{prefix}{i}")
        sent[f"{prefix}{i}"] = time.time()
        await handle.send_event("go", {"i": i})
        if gap:
            await asyncio.sleep(gap)
    await r.until(_DONE.format(prefix), n)
    rows = await r.watch.fetch(
        "SELECT i.id, s.started_at FROM steps s JOIN instances i ON i.pk = s.instance_pk "
        "WHERE i.id LIKE $1 AND s.name = 'after'", prefix + '%')
    latency = [(started - sent[instance]) * 1000 for instance, started in rows]
    return {"latency_ms_p50": _percentile(latency, 0.5),
            "latency_ms_p99": _percentile(latency, 0.99)}


async def w5(r: Round, n: int, steps: int) -> dict[str, Any]:
    await r.create("logged", [{"steps": steps}] * n, "w5-")
    await r.until("SELECT count(*) FROM steps", n * steps // 2)
    victim = r.workers[0]
    os.kill(victim.pid, signal.SIGKILL)
    killed = time.perf_counter()
    victim.wait()
    if r.count == 1:
        r.workers.append(spawn(r.url, r.side_log))
    await r.until(_DONE.format("w5-"), n)
    seconds = time.perf_counter() - killed
    lines = r.side_log.read_text().splitlines()
    return {"seconds_from_kill": seconds, "re_executed": len(lines) - len(set(lines)),
            "lease_seconds": 10.0}


async def floor(base: str, rows: int) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(base)
    table = f"floor_{uuid.uuid4().hex[:8]}"
    await conn.execute(f"CREATE TABLE {table} (k bigint, v text)")
    try:
        started = time.perf_counter()
        for k in range(rows):
            await conn.execute(f"INSERT INTO {table} VALUES ($1, 'x')", k)
        one = rows / (time.perf_counter() - started)
        started = time.perf_counter()
        for k in range(0, rows * 10, 100):
            async with conn.transaction():
                await conn.executemany(f"INSERT INTO {table} VALUES ($1, 'x')",
                                       [(k + j,) for j in range(100)])
        batched = rows * 10 / (time.perf_counter() - started)
    finally:
        await conn.execute(f"DROP TABLE {table}")
        await conn.close()
    return {"rows_per_s_1_per_commit": one, "rows_per_s_100_per_commit": batched}


def dbos(base: str, workload: str, cfg: dict[str, Any]) -> dict[str, Any] | None:
    """DBOS on a fresh database of the same server, in its own process (needs dbos)."""
    python = HERE / ".venv" / "bin" / "python"
    database = f"dbos_bench_{uuid.uuid4().hex[:8]}"
    url = base.rsplit("/", 1)[0] + "/" + database
    done = subprocess.run([str(python if python.exists() else sys.executable),
                           str(HERE / "worker.py"), workload, "dbos", json.dumps(cfg)],
                          capture_output=True, text=True, cwd=HERE, timeout=900,
                          env={**os.environ, "BENCH_DBOS_URL": url})
    subprocess.run(["psql", base, "-qc", f"DROP DATABASE IF EXISTS {database}"],
                   capture_output=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT "):]))
    print(f"DBOS {workload} failed: {done.stderr[-500:]}", file=sys.stderr)
    return None


async def main(args: argparse.Namespace) -> None:
    n = 200 if args.quick else 1000
    workers = [int(w) for w in args.workers.split(",")]
    results: dict[str, Any] = {"url": args.url.split("@")[-1], "instances": n, "rounds": {}}
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    for count in workers:
        row: dict[str, Any] = {}
        for name in args.workloads.split(","):
            async with Round(args.url, count, workdir) as r:
                if name == "w1":
                    row["w1"] = await w1(r, n, 10)
                elif name == "w2":
                    row["w2"] = await w2(r, 20 if args.quick else 50, 10)
                elif name == "w4":
                    row["w4"] = await w4(r, 100)
                elif name == "w5":
                    row["w5"] = await w5(r, n, 10)
            print(f"{count} worker(s) {name}: {row[name]}", flush=True)
        results["rounds"][count] = row
    results["floor"] = await floor(args.url, 500 if args.quick else 2000)
    print(f"floor: {results['floor']}", flush=True)
    if not args.no_dbos:
        results["dbos"] = {
            "w1": dbos(args.url, "w1", {"instances": n, "steps": 10}),
            "w2": dbos(args.url, "w2", {"reps": 20 if args.quick else 50, "steps": 10}),
            "w4": dbos(args.url, "w4", {"instances": 100}),
        }
        print(f"dbos: {results['dbos']}", flush=True)
    out = HERE / "results" / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-pg.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        asyncio.run(worker_main(sys.argv[2], sys.argv[3]))
        sys.exit(0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--workloads", default="w1,w2,w4,w5")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-dbos", action="store_true")
    asyncio.run(main(parser.parse_args()))
