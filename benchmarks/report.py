"""The table a run prints, and the targets our engine is measured against (never asserted).

Every row names a median metric of one workload. "ours vs DBOS" is a speed-up factor,
oriented so that above 1 always means ours is better: ours/DBOS for higher-is-better
metrics, DBOS/ours for lower-is-better ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["ROWS", "TARGETS", "Row", "Target", "evaluate_targets", "render_table"]


@dataclass(frozen=True)
class Row:
    """One line of the table: a metric of a workload, its unit and which way is better."""

    workload: str
    metric: str
    label: str
    higher_is_better: bool
    digits: int = 1
    compare: bool = True


ROWS: tuple[Row, ...] = (
    Row("w1", "steps_per_s", "W1 throughput: steps/s", True, 0),
    Row("w1", "instances_per_s", "W1 throughput: instances/s", True, 1),
    Row("w1", "peak_rss_mib", "W1 peak RSS (MiB)", False, 1),
    Row("w2", "step_ms_p50", "W2 latency: ms per step p50", False, 2),
    Row("w2", "step_ms_p90", "W2 latency: ms per step p90", False, 2),
    Row("w2", "instance_ms_p50", "W2 instance create-to-done ms p50", False, 1),
    Row("w3", "ramp_seconds", "W3 time to put all to sleep (s)", False, 1),
    Row("w3", "sleeping_at_sample", "W3 instances asleep at the sample", True, 0,
        compare=False),
    Row("w3", "rss_per_sleeper_kib", "W3 RSS per sleeping instance (KiB)", False, 2),
    Row("w3", "py_blocks_per_sleeper_after_gc", "W3 live Python blocks per sleeper", False,
        1, compare=False),
    Row("w3", "lateness_p50_s", "W3 completion after due p50 (s)", False, 2),
    Row("w3", "all_done_after_due_s", "W3 all done after due (s)", False, 2),
    Row("w4", "latency_ms_p50", "W4 event-to-resume ms p50", False, 1),
    Row("w4", "latency_ms_p99", "W4 event-to-resume ms p99", False, 1),
    Row("w5", "steps_committed_before_kill", "W5 steps committed before kill -9", True, 0,
        compare=False),
    Row("w5", "steps_left_at_kill", "W5 steps left to run at the kill", False, 0,
        compare=False),
    Row("w5", "recover_seconds", "W5 open-to-all-done after kill -9 (s)", False, 2),
    Row("w5", "recovered_steps_per_s", "W5 steps/s while recovering", True, 0),
    Row("w5", "recover_spawn_to_done_seconds", "W5 spawn-to-all-done (s)", False, 2),
    Row("w5", "reexecuted_steps", "W5 steps re-executed", False, 0),
    Row("w5", "reexecuted_committed_steps", "W5 re-executed committed steps", False, 0),
    Row("floor", "sqlite3_normal_row_rows_per_s", "floor sqlite3 NORMAL 1 row/commit", True, 0),
    Row("floor", "aiosqlite_normal_row_rows_per_s", "floor aiosqlite NORMAL 1 row/commit",
        True, 0),
    Row("floor", "sqlite3_normal_batch100_rows_per_s", "floor sqlite3 NORMAL 100 rows/commit",
        True, 0),
    Row("floor", "aiosqlite_normal_batch100_rows_per_s",
        "floor aiosqlite NORMAL 100 rows/commit", True, 0),
    Row("floor", "sqlite3_full_row_rows_per_s", "floor sqlite3 FULL 1 row/commit", True, 0),
    Row("floor", "aiosqlite_full_row_rows_per_s", "floor aiosqlite FULL 1 row/commit", True,
        0),
    Row("floor", "sqlite3_full_batch100_rows_per_s", "floor sqlite3 FULL 100 rows/commit",
        True, 0),
    Row("floor", "aiosqlite_full_batch100_rows_per_s", "floor aiosqlite FULL 100 rows/commit",
        True, 0),
    Row("micro", "replay_ms", "micro replay of the journal (ms)", False, 2),
    Row("micro", "journal_load_ms", "micro load_journal of it (ms)", False, 2),
    Row("micro", "resume_e2e_ms", "micro send_event-to-wait() on it (ms)", False, 1),
    Row("micro", "plan_load_us", "micro cached Engine.load_plan (us)", False, 2),
    Row("micro", "loop_sandbox_ms", "micro loop in the sandbox (ms)", False, 1),
    Row("micro", "loop_plain_ms", "micro same loop, plain CPython (ms)", False, 1),
    Row("micro", "sandbox_ratio", "micro sandbox / plain CPython", False, 2),
    Row("micro", "validate_ms", "micro validate a 200-line plan (ms)", False, 1),
    Row("micro", "compile_ms", "micro validate + compile it (ms)", False, 1),
)


@dataclass(frozen=True)
class Target:
    """A goal for our engine from the brief: ``metric`` (or the ratio) against ``limit``."""

    label: str
    workload: str
    metric: str
    limit: float
    at_most: bool
    ratio: bool = False


TARGETS: tuple[Target, ...] = (
    Target("W1 >= 10,000 steps/s", "w1", "steps_per_s", 10_000, at_most=False),
    Target("W1 >= 30x DBOS", "w1", "steps_per_s", 30, at_most=False, ratio=True),
    Target("W2 <= 0.3 ms per step (p50)", "w2", "step_ms_p50", 0.3, at_most=True),
    Target("W3 <= 1 KiB per sleeping instance", "w3", "rss_per_sleeper_kib", 1.0,
           at_most=True),
    Target("W3 all done within 1 s of due", "w3", "all_done_after_due_s", 1.0, at_most=True),
    Target("W4 p50 <= 5 ms", "w4", "latency_ms_p50", 5.0, at_most=True),
    Target("W4 p99 <= 50 ms", "w4", "latency_ms_p99", 50.0, at_most=True),
    Target("W5 <= 2 s to recover (1,000 instances at full size)", "w5", "recover_seconds",
           2.0, at_most=True),
    Target("W5 0 re-executed committed steps", "w5", "reexecuted_committed_steps", 0.0,
           at_most=True),
    Target("replay of the journal <= 20 ms (1,000 steps at full size)", "micro",
           "replay_ms", 20.0, at_most=True),
    Target("cached plan load <= 50 us", "micro", "plan_load_us", 50.0, at_most=True),
)


def _value(medians: dict[str, Any], workload: str, system: str, metric: str) -> float | None:
    value = medians.get(workload, {}).get(system, {}).get(metric)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(
            value):
        return float(value)
    return None


def _advantage(ours: float | None, theirs: float | None, higher: bool) -> float | None:
    if ours is None or theirs is None or ours <= 0 or theirs <= 0:
        return None
    return ours / theirs if higher else theirs / ours


def evaluate_targets(medians: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with our measured value and whether it is met (None: not measured)."""
    out = []
    for target in TARGETS:
        ours = _value(medians, target.workload, "ours", target.metric)
        if target.ratio:
            ours = _advantage(ours, _value(medians, target.workload, "dbos", target.metric),
                              higher=True)
        met = None if ours is None else (ours <= target.limit if target.at_most
                                         else ours >= target.limit)
        out.append({"target": target.label, "value": ours, "met": met})
    return out


def _fmt(value: float | None, digits: int) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def render_table(results: dict[str, Any]) -> str:
    """A Markdown table of the medians, then the targets."""
    medians = results["medians"]
    lines = ["| metric | ours | DBOS | ours vs DBOS |", "|---|---:|---:|---:|"]
    for row in ROWS:
        if row.workload not in medians:
            continue
        system = "floor" if row.workload == "floor" else "ours"
        ours = _value(medians, row.workload, system, row.metric)
        theirs = _value(medians, row.workload, "dbos", row.metric)
        if ours is None and theirs is None:
            continue
        advantage = _advantage(ours, theirs, row.higher_is_better) if row.compare else None
        lines.append(f"| {row.label} | {_fmt(ours, row.digits)} | {_fmt(theirs, row.digits)} "
                     f"| {'-' if advantage is None else f'{advantage:,.1f}x'} |")
    lines += ["", "| target (ours) | measured | met |", "|---|---:|:---:|"]
    for target in results.get("targets", []):
        met = {True: "yes", False: "no", None: "-"}[target["met"]]
        lines.append(f"| {target['target']} | {_fmt(target['value'], 2)} | {met} |")
    return "\n".join(lines)
