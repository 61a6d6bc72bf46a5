"""Measuring helpers shared by every workload: memory, percentiles, polling, machine facts.

Everything here is plain stdlib so that a workload subprocess imports it cheaply and the
numbers it returns are computed the same way for every system under test.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "machine_info",
    "median",
    "peak_rss_kib",
    "percentile",
    "rss_kib",
    "versions",
    "wait_for_count",
]

_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def rss_kib() -> int:
    """The resident set size of this process right now, in KiB (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_KIB


def peak_rss_kib() -> int:
    """The highest resident set size this process has had, in KiB."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0..1) of ``values``, linearly interpolated."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    """The median, or NaN for no values (a workload that failed in every round)."""
    return statistics.median(values) if values else float("nan")


async def wait_for_count(connection: sqlite3.Connection, sql: str, target: int, *,
                         interval: float = 0.005, timeout: float = 600.0) -> float:
    """Poll ``sql`` (a count) on ``connection`` until it reaches ``target``.

    Returns ``time.perf_counter()`` of the first poll that saw the target. The query runs
    in a worker thread (``sqlite3`` releases the GIL while it executes): a count scans the
    instances table, about 3 ms at 10,000 rows, and on the event loop thread that would
    take a fifth of the loop away from the system being measured. Using a separate
    connection keeps the measurement independent of the engine's own APIs.
    """
    import asyncio

    def count() -> int:
        (value,) = connection.execute(sql).fetchone()
        return int(value or 0)

    deadline = time.perf_counter() + timeout
    while True:
        value = await asyncio.to_thread(count)
        now = time.perf_counter()
        if value >= target:
            return now
        if now > deadline:
            raise TimeoutError(f"{sql!r} reached {value} of {target} in {timeout:g} s")
        await asyncio.sleep(interval)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory, OS, load and the date: what a reader needs to compare."""
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory": _memory_total(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_commit(root: Path, what: str = "HEAD") -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", what],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--",
                            "agents_durable"], capture_output=True, text=True, timeout=10,
                           check=False).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def versions(root: Path) -> dict[str, Any]:
    """Versions of everything whose speed the numbers depend on."""
    return {
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "agents_durable": _version("agents-durable"),
        "agents_durable_commit": _git_commit(root),
        # The package's own tree: what decides whether two runs measured the same engine.
        "agents_durable_tree": _git_commit(root, "HEAD:agents_durable"),
        "aiosqlite": _version("aiosqlite"),
        "anyio": _version("anyio"),
        "restrictedpython": _version("RestrictedPython"),
        "dbos": _version("dbos"),
        "sqlalchemy": _version("SQLAlchemy"),
        "pyinstrument": _version("pyinstrument"),
    }
