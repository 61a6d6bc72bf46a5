"""Process isolation against inline execution, side by side: ``python benchmarks/isolation.py``.

    python benchmarks/isolation.py [--rounds 3] [--instances 1000] [--json out.json]

Each (workload, mode, round) runs in a fresh subprocess (``worker.py``), alternating which
mode goes first. Workloads: W1 (``instances`` x 10 trivial steps at once) and W2 (one
instance of 10 steps at a time; ms between step bodies) from ``ours.py`` with
``isolation`` set; ``cpu`` (W1's shape with a compute-heavy plan: every instance runs a
loop of 200,000 iterations of plan code before its steps); then, in this process, runner
start time (fork server to ready, confinement included) and the memory of an idle runner
(RSS, and PSS/USS: a runner shares the fork server's pages copy-on-write). Medians over
rounds; the ratio is process / inline (above 1 is faster for throughput).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_plans import TRIVIAL_STEPS  # noqa: E402
from worker import RESULT_PREFIX  # noqa: E402

CPU_HEAVY = TRIVIAL_STEPS.replace("async def run(event, step):\n", (
    "async def run(event, step):\n"
    "    total = 0\n"
    "    for i in range(200000):\n"
    "        total = (total + i * i) % 1000003\n"), 1)


def _round(workload: str, config: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(HERE / "worker.py"), workload, "ours",
                           json.dumps(config)], capture_output=True, text=True, timeout=900,
                          cwd=HERE)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX):]))
    raise RuntimeError(f"{workload} failed: {done.stderr[-3000:]}")


async def _runner_figures(samples: int = 40) -> dict[str, Any]:
    from agents_durable.engine._runner_pool import RunnerPool

    pool = RunnerPool(warm=1)
    started = time.perf_counter()
    await pool.open()
    opened = time.perf_counter() - started
    starts = []
    for _ in range(samples):
        runner = await pool._start_runner()
        starts.append(runner.start_seconds * 1000)
        runner.kill("benchmark")
        runner.close()
    idle = pool._idle[0]
    await asyncio.sleep(0.2)
    memory = {"rss_mib": idle.rss() / 2 ** 20}
    try:
        with open(f"/proc/{idle.pid}/smaps_rollup") as rollup:  # noqa: ASYNC230
            for line in rollup:
                key, _, rest = line.partition(":")
                if key in ("Pss", "Private_Clean", "Private_Dirty"):
                    memory[key] = int(rest.split()[0]) / 1024
        memory["uss_mib"] = memory.pop("Private_Clean", 0) + memory.pop("Private_Dirty", 0)
        memory["pss_mib"] = memory.pop("Pss", 0)
    except OSError:
        pass
    await pool.aclose()
    return {"fork_server_and_first_runner_ms": opened * 1000,
            "runner_start_ms_p50": statistics.median(starts),
            "runner_start_ms_max": max(starts), "idle_runner": memory,
            "layers": pool.layers}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    workloads = {
        "w1": ("w1", {"instances": args.instances, "steps": 10}),
        "w2": ("w2", {"reps": 100, "steps": 10}),
        "cpu": ("w1", {"instances": max(args.instances // 10, 20), "steps": 10,
                       "plan": CPU_HEAVY}),
    }
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, (workload, config) in workloads.items():
        for r in range(args.rounds):
            modes = ("inline", "process") if r % 2 == 0 else ("process", "inline")
            for mode in modes:
                outcome = _round(workload, {**config, "isolation": mode})
                results.setdefault(name, {}).setdefault(mode, []).append(outcome)
    table = {}
    for name, by_mode in results.items():
        key = "step_ms_p50" if name == "w2" else "steps_per_s"
        inline = statistics.median(r[key] for r in by_mode["inline"])
        process = statistics.median(r[key] for r in by_mode["process"])
        table[name] = {"metric": key, "inline": inline, "process": process,
                       "process/inline": process / inline}
    runners = asyncio.run(_runner_figures())
    print(json.dumps({"table": table, "runners": runners}, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"table": table, "runners": runners,
                                         "rounds": results}, indent=2))


if __name__ == "__main__":
    main()
