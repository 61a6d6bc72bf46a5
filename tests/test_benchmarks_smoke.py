"""The benchmark harness still runs: every workload completes on our engine at tiny sizes.

Runs ``benchmarks/run.py --size smoke --systems ours`` (DBOS is not installed in the test
environment; its side is skipped by selecting only ours) and checks the JSON it writes:
each workload produced its metrics, every instance finished, and the crash-recovery
workload re-executed no step whose result was committed. No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

EXPECTED_KEYS = {
    "w1": {"instances", "steps", "seconds", "steps_per_s", "instances_per_s", "peak_rss_mib",
           "completed"},
    "w2": {"reps", "step_ms_p50", "step_ms_p90", "instance_ms_p50"},
    "w3": {"instances", "sleeping_at_sample", "ramp_seconds", "rss_per_sleeper_kib",
           "rss_above_baseline_mib", "py_blocks_per_sleeper_after_gc",
           "all_done_after_due_s", "lateness_p50_s", "lateness_p99_s", "completed"},
    "w4": {"instances", "resumed", "latency_ms_p50", "latency_ms_p99"},
    "w5": {"instances", "steps", "recover_seconds", "recover_spawn_to_done_seconds",
           "steps_committed_before_kill", "reexecuted_steps", "reexecuted_committed_steps",
           "steps_never_executed", "completed"},
    "micro": {"replay_steps", "replay_ms", "journal_load_ms", "plan_load_us",
              "loop_sandbox_ms", "loop_plain_ms", "sandbox_ratio", "validate_ms",
              "compile_ms", "resume_status"},
}
FLOOR_KEYS = {f"{lib}_{sync}_{mode}_rows_per_s" for lib in ("sqlite3", "aiosqlite")
              for sync in ("normal", "full") for mode in ("row", "batch100")}


def test_every_workload_completes_on_our_engine(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--size", "smoke",
         "--systems", "ours", "--in-process", "--results", str(tmp_path)],
        capture_output=True, text=True, timeout=110, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (path,) = tmp_path.glob("*-smoke.json")
    results = json.loads(path.read_text())

    assert results["errors"] == []
    assert results["versions"]["agents_durable"] is not None
    assert {"cores", "cpu_model", "date_utc"} <= set(results["machine"])
    medians = results["medians"]
    for workload, keys in EXPECTED_KEYS.items():
        assert set(medians[workload]) == {"ours"}, workload
        assert keys <= set(medians[workload]["ours"]), workload
    assert set(medians["floor"]["floor"]) >= FLOOR_KEYS

    ours = {workload: medians[workload]["ours"] for workload in EXPECTED_KEYS}
    assert ours["w1"]["completed"] == ours["w1"]["instances"]
    assert ours["w3"]["completed"] == ours["w3"]["instances"]
    assert ours["w4"]["resumed"] == ours["w4"]["instances"]
    assert ours["w5"]["completed"] == ours["w5"]["instances"]
    assert ours["w5"]["reexecuted_committed_steps"] == 0
    assert ours["w5"]["steps_never_executed"] == 0
    assert ours["micro"]["resume_status"] == "complete"
    assert "| W1 throughput: steps/s |" in done.stdout
