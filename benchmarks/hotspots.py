"""Where our engine spends W1 and W2's time: pyinstrument on the event-loop thread.

``run.py --profile`` calls ``profile_all``, which runs each workload under pyinstrument in
a fresh process (``python hotspots.py WORKLOAD CONFIG_JSON OUT_PREFIX``) and writes
``<stamp>-profile-<workload>.txt`` (pyinstrument's tree) and ``.json`` (the top functions
by self time and by inclusive time). Time the event loop spends idle in ``select`` is
time spent waiting for aiosqlite's worker thread, which pyinstrument does not sample.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["profile_all", "top_functions"]

HERE = Path(__file__).resolve().parent
TOP = 15


def top_functions(root: Any, top: int = TOP) -> dict[str, list[dict[str, Any]]]:
    """The ``top`` functions by self time, and the package's by inclusive time."""
    total = root.time or 1.0
    self_time: dict[tuple[str, str], float] = defaultdict(float)
    inclusive: dict[tuple[str, str], float] = defaultdict(float)

    def walk(frame: Any, active: frozenset[tuple[str, str]]) -> None:
        key = (frame.function or "?", frame.file_path_short or frame.file_path or "?")
        real = [child for child in frame.children if not child.is_synthetic]
        self_time[key] += max(frame.time - sum(child.time for child in real), 0.0)
        if key not in active:  # count a recursive function once per stack
            inclusive[key] += frame.time
        for child in real:
            walk(child, active | {key})

    walk(root, frozenset())

    def rows(table: dict[tuple[str, str], float], keep: Any) -> list[dict[str, Any]]:
        ranked = sorted(((t, k) for k, t in table.items() if keep(k)), reverse=True)[:top]
        return [{"function": k[0], "file": k[1], "seconds": round(t, 4),
                 "share": round(t / total, 4)} for t, k in ranked]

    return {
        "total_seconds": [{"seconds": round(total, 4)}],
        "self": rows(self_time, lambda k: True),
        "inclusive_agents_durable": rows(
            inclusive, lambda k: "agents_durable" in k[1] and k[0] != "<module>"),
    }


def _profile(workload: str, config: dict[str, Any], prefix: Path) -> dict[str, Any]:
    from pyinstrument import Profiler
    from worker import _workloads, run_workload

    _workloads("ours")  # imports outside the profile
    profiler = Profiler(interval=0.001, async_mode="disabled", use_timing_thread=True)
    profiler.start()
    result = run_workload(workload, "ours", config)
    profiler.stop()
    prefix.with_suffix(".txt").write_text(profiler.output_text(show_all=False))
    session = profiler.last_session
    assert session is not None
    summary = top_functions(session.root_frame())
    summary["result"] = [result]
    prefix.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    return summary


def _format(workload: str, summary: dict[str, Any]) -> str:
    lines = [f"Hotspots of our engine in {workload.upper()} "
             f"({summary['total_seconds'][0]['seconds']:.1f} s on the event-loop thread), "
             "by self time:"]
    for row in summary["self"][:12]:
        lines.append(f"  {row['share'] * 100:5.1f}%  {row['function']}  ({row['file']})")
    lines.append("  agents_durable functions by inclusive time:")
    for row in summary["inclusive_agents_durable"][:10]:
        lines.append(f"  {row['share'] * 100:5.1f}%  {row['function']}  ({row['file']})")
    return "\n".join(lines)


def profile_all(sizes: dict[str, dict[str, Any]], out: Path, stamp: str) -> dict[str, Any]:
    """Profile W1 and W2 of our engine at ``sizes`` (one size of ``run.SIZES``); return
    summaries and a text digest."""
    summaries: dict[str, Any] = {}
    texts = []
    for workload in ("w1", "w2"):
        config = {k: v for k, v in sizes[workload].items() if k != "rounds"}
        prefix = out / f"{stamp}-profile-{workload}"
        done = subprocess.run([sys.executable, str(HERE / "hotspots.py"), workload,
                               json.dumps(config), str(prefix)],
                              capture_output=True, text=True, timeout=1800, check=False)
        if done.returncode != 0:
            texts.append(f"profiling {workload} failed:\n{done.stderr[-2000:]}")
            continue
        summaries[workload] = json.loads(prefix.with_suffix(".json").read_text())
        texts.append(_format(workload, summaries[workload]))
    return {"profiles": summaries, "summary": "\n\n".join(texts)}


if __name__ == "__main__":
    _profile(sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3]))
