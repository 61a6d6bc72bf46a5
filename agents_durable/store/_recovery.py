"""Which instances a crash (SQLite) or an expired lease (PostgreSQL) releases, and which it
quarantines: one rule for both stores.

An instance in flight becomes a suspect (``crashes`` at least 1); one that was a suspect
already, ``quarantine_after`` times, is quarantined with the error below.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

__all__ = ["quarantine_error", "split_suspects"]


def split_suspects(rows: Iterable[tuple[int, int]], quarantine_after: int
                   ) -> tuple[list[int], list[int]]:
    """``(released, quarantined)`` pks of ``(pk, crashes)`` rows left running."""
    released: list[int] = []
    quarantined: list[int] = []
    for pk, crashes in rows:
        (quarantined if max(crashes, 1) >= quarantine_after else released).append(pk)
    return released, quarantined


def quarantine_error(quarantine_after: int) -> str:
    """The error JSON a quarantined instance ends with."""
    return json.dumps({
        "name": "QuarantinedError",
        "message": f"the instance was running during {quarantine_after} engine crashes in a "
                   "row; it is not replayed again. Inspect its history, fix the plan or the "
                   "tools, then restart it",
        "step": None})
