"""Run every benchmark, ours and DBOS side by side; print a table and write JSON.

    python3 benchmarks/run.py [--size quick|full|smoke] [--systems ours,dbos] [--profile]

``benchmarks/run.sh`` makes the venv this needs (this project + ``dbos`` + pyinstrument)
and calls this file with it. Each (workload, system, round) runs in a fresh subprocess;
rounds alternate which system goes first; the table shows medians over rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from measure import machine_info, median, versions
from report import evaluate_targets, render_table
from worker import RESULT_PREFIX

__all__ = ["SIZES", "main", "run_all"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: Workload sizes. "full" has the sizes of benchmarks/README.md (W1, W3 and W5 run fewer
#: rounds so that the full run stays near 15 minutes on 2 cores); "quick" finishes in under
#: two minutes on two busy cores; "smoke" is for tests/test_benchmarks_smoke.py (it checks
#: that everything completes and measures nothing).
SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "w1": {"instances": 1000, "steps": 10, "rounds": 2},
        "w2": {"reps": 200, "steps": 10, "rounds": 3},
        "w3": {"instances": 10_000, "rounds": 1},
        "w4": {"instances": 100, "rounds": 3},
        "w5": {"instances": 1000, "steps": 10, "rounds": 1},
        "floor": {"rows_single": 3000, "rows_batched": 30_000, "rounds": 3},
        "micro": {"replay_steps": 1000, "replay_reps": 7, "plan_load_reps": 50_000,
                  "loop_n": 300_000, "loop_reps": 5, "compile_reps": 7, "rounds": 3},
    },
    "quick": {
        "w1": {"instances": 100, "steps": 10, "rounds": 1},
        "w2": {"reps": 25, "steps": 10, "rounds": 1},
        "w3": {"instances": 300, "rounds": 1},
        "w4": {"instances": 30, "rounds": 1},
        "w5": {"instances": 80, "steps": 10, "rounds": 1},
        "floor": {"rows_single": 500, "rows_batched": 5000, "rounds": 1},
        "micro": {"replay_steps": 1000, "replay_reps": 3, "plan_load_reps": 10_000,
                  "loop_n": 100_000, "loop_reps": 3, "compile_reps": 3, "rounds": 1},
    },
    "smoke": {
        "w1": {"instances": 4, "steps": 3, "rounds": 1},
        "w2": {"reps": 2, "steps": 3, "warmup": 1, "rounds": 1},
        "w3": {"instances": 6, "sleep_s": 0.3, "rounds": 1},
        "w4": {"instances": 3, "rounds": 1},
        "w5": {"instances": 6, "steps": 3, "rounds": 1},
        "floor": {"rows_single": 20, "rows_batched": 200, "rounds": 1},
        "micro": {"replay_steps": 20, "replay_reps": 1, "plan_load_reps": 100,
                  "loop_n": 1000, "loop_reps": 1, "compile_reps": 1, "rounds": 1},
    },
}

#: Which systems run each workload. The floor and the micro-benchmarks have no DBOS side.
SYSTEMS_OF = {"w1": ("ours", "dbos"), "w2": ("ours", "dbos"), "w3": ("ours", "dbos"),
              "w4": ("ours", "dbos"), "w5": ("ours", "dbos"), "floor": ("floor",),
              "micro": ("ours",)}
WORKLOADS = tuple(SYSTEMS_OF)


def parse_result(stdout: str) -> dict[str, Any]:
    """The ``RESULT {...}`` line a worker printed."""
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise RuntimeError(f"the worker printed no result:\n{stdout[-2000:]}")
    return dict(json.loads(lines[-1][len(RESULT_PREFIX):]))


def run_round(workload: str, system: str, cfg: dict[str, Any], python: str,
              timeout: float, *, in_process: bool = False) -> dict[str, Any]:
    """One round of one workload for one system, in a fresh process (two for W5).

    ``in_process`` runs it in this process instead (W5 still needs its two): only for the
    smoke test, where start-up time matters and the numbers do not.
    """
    if workload == "w5":
        from recovery import run_recovery

        return run_recovery(system, cfg, python, parse_result, timeout=timeout)
    if in_process:
        from worker import run_workload

        return run_workload(workload, system, cfg)
    argv = [python, str(HERE / "worker.py"), workload, system, json.dumps(cfg)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{workload}/{system} failed (exit {done.returncode}):\n"
                           f"{done.stderr[-4000:]}")
    return parse_result(done.stdout)


def _medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in rounds[0].items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)] if rounds else []
    out: dict[str, Any] = {k: median([r[k] for r in rounds if isinstance(r.get(k), (int, float))
                                      and not math.isnan(r[k])]) for k in keys}
    for key, value in (rounds[0].items() if rounds else ()):
        if key not in out:
            out[key] = value if all(r.get(key) == value for r in rounds) else [
                r.get(key) for r in rounds]
    return out


def _settings(systems: set[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if "ours" in systems:
        import ours

        settings["ours"] = ours.settings()
    if "dbos" in systems:
        import dbos_side

        settings["dbos"] = dbos_side.settings()
    return settings


def run_all(size: str, systems: set[str], *, workloads: tuple[str, ...] = WORKLOADS,
            python: str = sys.executable, timeout: float = 1800.0,
            in_process: bool = False, log: Any = print) -> dict[str, Any]:
    """Every selected workload, alternating systems per round; raw rounds and medians."""
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    errors: list[str] = []
    started = time.perf_counter()
    for workload in workloads:
        cfg = dict(SIZES[size][workload])
        rounds = cfg.pop("rounds")
        selected = [s for s in SYSTEMS_OF[workload] if s in systems or s == "floor"]
        raw[workload] = {s: [] for s in selected}
        for r in range(rounds):
            order = selected if r % 2 == 0 else list(reversed(selected))
            for system in order:
                t = time.perf_counter()
                try:
                    result = run_round(workload, system, cfg, python, timeout,
                                       in_process=in_process)
                except Exception as error:  # keep the other workloads' numbers
                    errors.append(f"{workload}/{system} round {r + 1}: {error}")
                    log(f"  {workload:<5} {system:<5} round {r + 1}/{rounds}: FAILED")
                    continue
                raw[workload][system].append(result)
                log(f"  {workload:<5} {system:<5} round {r + 1}/{rounds}: "
                    f"{time.perf_counter() - t:6.1f} s")
    medians = {w: {s: _medians(rs) for s, rs in by_system.items() if rs}
               for w, by_system in raw.items()}
    return {"size": size, "sizes": SIZES[size], "medians": medians, "rounds": raw,
            "errors": errors, "wall_seconds": time.perf_counter() - started}


def _reuse_dbos(results: dict[str, Any], path: Path) -> None:
    """Merge DBOS's medians and rounds from an earlier run into ``results``, saying so."""
    earlier = json.loads(path.read_text())
    for workload, by_system in earlier["medians"].items():
        if "dbos" in by_system and workload in results["medians"]:
            results["medians"][workload]["dbos"] = by_system["dbos"]
            results["rounds"][workload]["dbos"] = earlier["rounds"][workload]["dbos"]
    results["dbos_reused_from"] = {
        "file": path.name, "date_utc": earlier["machine"]["date_utc"],
        "size": earlier["size"], "versions": earlier["versions"],
        "settings": earlier["settings"].get("dbos")}
    results["settings"]["dbos"] = earlier["settings"].get("dbos")
    print(f"  DBOS numbers reused from {path.name} ({earlier['machine']['date_utc']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--quick", action="store_const", const="quick", dest="size",
                        help="same as --size quick (under two minutes)")
    parser.add_argument("--systems", default="ours,dbos",
                        help="comma-separated: ours, dbos (default both)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated subset of {', '.join(WORKLOADS)}")
    parser.add_argument("--results", type=Path, default=HERE / "results",
                        help="directory for the JSON (and profile) output")
    parser.add_argument("--in-process", action="store_true",
                        help="run rounds in this process (fast start; for the smoke test: "
                             "memory and state then leak between workloads)")
    parser.add_argument("--reuse-dbos", type=Path, metavar="JSON",
                        help="take DBOS's numbers from an earlier results JSON instead of "
                             "running DBOS again (they do not change when our engine does)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile W1 and W2 of our engine with pyinstrument")
    args = parser.parse_args(argv)

    systems = {s.strip() for s in args.systems.split(",") if s.strip()}
    if not systems <= {"ours", "dbos"}:
        parser.error("--systems takes ours and/or dbos")
    if args.reuse_dbos is not None:
        systems.discard("dbos")
    if "dbos" in systems:
        try:
            import dbos  # noqa: F401
        except ImportError:
            parser.error("dbos is not installed in this interpreter: run benchmarks/run.sh "
                         "(it builds benchmarks/.venv), or pass --systems ours")
    workloads = tuple(w.strip() for w in args.workloads.split(",") if w.strip())
    unknown = set(workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")

    info = {"machine": machine_info(), "versions": versions(ROOT),
            "settings": _settings(systems), "systems": sorted(systems)}
    print(f"agents_durable benchmarks, size {args.size}, systems {', '.join(sorted(systems))}")
    print(f"  {info['machine']['cores']} cores, {info['machine']['cpu_model']}, "
          f"load {info['machine']['load_average_at_start']}, {info['machine']['date_utc']}")
    results = run_all(args.size, systems, workloads=workloads, in_process=args.in_process)
    results.update(info)
    # The engine is installed editable: if its source changed during the run, say so.
    results["agents_durable_tree_at_end"] = versions(ROOT)["agents_durable_tree"]
    if results["agents_durable_tree_at_end"] != info["versions"]["agents_durable_tree"]:
        results["errors"].append("agents_durable changed during the run: rounds may mix "
                                 "versions (tree at start "
                                 f"{info['versions']['agents_durable_tree']}, at end "
                                 f"{results['agents_durable_tree_at_end']})")
    if args.reuse_dbos is not None:
        _reuse_dbos(results, args.reuse_dbos)
    results["targets"] = evaluate_targets(results["medians"])
    table = render_table(results)
    print()
    print(table)
    if results["errors"]:
        print("\nErrors:")
        for error in results["errors"]:
            print("  " + error.splitlines()[0])

    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    if args.profile:
        from hotspots import profile_all

        results["hotspots"] = profile_all(SIZES[args.size], args.results, stamp)
        print("\n" + results["hotspots"]["summary"])
    path = args.results / f"{stamp}-{args.size}.json"
    results["table"] = table
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nJSON: {path}  ({results['wall_seconds']:.0f} s of workloads)")
    return 1 if results["errors"] else 0

if __name__ == "__main__":
    sys.exit(main())
