"""W5: kill -9 in the middle of a W1-like run, restart, and check what ran twice.

Two worker processes per round. The first creates every instance, then runs them; each
step body appends ``<instance> <step>`` to a side log with ``O_APPEND`` (the kernel keeps
it through SIGKILL). Once every instance exists and about half of all steps have logged,
the parent sends SIGKILL, reads which step results the database had committed, and starts
the second process, which recovers and runs to the end. A step logged twice was
re-executed; it is legitimate only if its result had not been committed before the kill.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["run_recovery"]

HERE = Path(__file__).resolve().parent


def _committed(system: str, workdir: Path) -> set[tuple[str, int]]:
    # Imported here: the DBOS side needs `dbos`, which the parent may not have loaded.
    if system == "ours":
        import ours

        return ours.committed_steps(workdir)
    import dbos_side

    return dbos_side.committed_steps(workdir)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))
    except FileNotFoundError:
        return 0


def run_recovery(system: str, cfg: dict[str, Any], python: str,
                 parse: Any, timeout: float = 900.0) -> dict[str, Any]:
    """One W5 round for ``system``; ``parse`` turns a worker's stdout into its result."""
    n, steps = cfg["instances"], cfg["steps"]
    total = n * steps
    kill_at = int(total * cfg.get("kill_fraction", 0.5))
    with tempfile.TemporaryDirectory(prefix=f"bench-{system}-w5-") as scratch:
        workdir = Path(scratch)
        config = dict(cfg, workdir=str(workdir))
        argv = [python, str(HERE / "worker.py"), "w5_run", system, json.dumps(config)]
        side_log = workdir / "side.log"
        victim = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while True:
            if victim.poll() is not None:
                raise RuntimeError(f"W5 {system}: the first process exited early:\n"
                                   f"{victim.stderr.read().decode() if victim.stderr else ''}")
            if time.monotonic() > deadline:
                victim.kill()
                raise TimeoutError(f"W5 {system}: no progress to kill at")
            if (workdir / "created").exists() and _count_lines(side_log) >= kill_at:
                break
            time.sleep(0.002)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        if victim.stderr is not None:
            victim.stderr.close()
        logged_before = len(_lines(side_log))
        committed = _committed(system, workdir)

        started = time.perf_counter()
        argv = [python, str(HERE / "worker.py"), "w5_recover", system, json.dumps(config)]
        finished = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        spawn_to_done = time.perf_counter() - started
        if finished.returncode != 0:
            raise RuntimeError(f"W5 {system}: the recovering process failed:\n"
                               f"{finished.stderr[-4000:]}")
        result = parse(finished.stdout)

        counts = collections.Counter(_lines(side_log))
        executed = {(line.split()[0], int(line.split()[1])) for line in counts}
        rerun = {(line.split()[0], int(line.split()[1])) for line, c in counts.items() if c > 1}
        expected = {(f"w5-{i}", k) for i in range(n) for k in range(steps)}
    return {
        "instances": n, "steps": total,
        "steps_logged_before_kill": logged_before,
        "steps_committed_before_kill": len(committed),
        "steps_left_at_kill": total - len(committed),
        "recover_seconds": result["recover_seconds"],
        "recovered_steps_per_s": (total - len(committed)) / result["recover_seconds"],
        "recover_spawn_to_done_seconds": spawn_to_done,
        "open_seconds": result["open_seconds"],
        "completed": result["completed"],
        "reexecuted_steps": len(rerun),
        "reexecuted_committed_steps": len(rerun & committed),
        "steps_never_executed": len(expected - executed),
        "extra_executions": sum(counts.values()) - len(counts),
    }


if __name__ == "__main__":  # a manual check: python recovery.py ours [instances]
    import worker

    def _parse(stdout: str) -> dict[str, Any]:
        line = [x for x in stdout.splitlines() if x.startswith(worker.RESULT_PREFIX)][-1]
        return dict(json.loads(line[len(worker.RESULT_PREFIX):]))

    print(run_recovery(sys.argv[1], {"instances": int(sys.argv[2]) if len(sys.argv) > 2
                                     else 100, "steps": 10}, sys.executable, _parse))
