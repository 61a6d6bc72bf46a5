"""One workload round in a fresh process: ``python worker.py WORKLOAD SYSTEM CONFIG_JSON``.

Prints one line ``RESULT {...}`` (JSON) on success. Every round runs in its own process so
that memory, caches and threads of one system never leak into the other's numbers.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["RESULT_PREFIX", "main", "run_workload"]

RESULT_PREFIX = "RESULT "


def _workloads(system: str) -> dict[str, Any]:
    if system == "ours":
        import ours

        return ours.WORKLOADS
    if system == "dbos":
        import dbos_side

        return dbos_side.WORKLOADS
    if system == "floor":
        import floor

        return floor.WORKLOADS
    raise SystemExit(f"unknown system {system!r}")


def run_workload(workload: str, system: str, config: dict[str, Any]) -> dict[str, Any]:
    """Run one workload in this process, in ``config["workdir"]`` or a scratch directory."""
    function = _workloads(system)[workload]
    workdir = config.get("workdir")
    with tempfile.TemporaryDirectory(prefix=f"bench-{system}-{workload}-") as scratch:
        return dict(asyncio.run(function(config, Path(workdir or scratch))))


def main(argv: list[str]) -> int:
    workload, system, config = argv[1], argv[2], json.loads(argv[3])
    result = run_workload(workload, system, config)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
