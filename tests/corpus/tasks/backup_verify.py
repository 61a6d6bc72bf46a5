"""Simple: snapshot once, verify with a custom retry policy, report the attempt."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Take a backup snapshot of a volume and verify it.

1. Create the snapshot with `storage.snapshot(volume, idempotency_key)` (exactly one
   snapshot must be created).
2. Verify it with `storage.verify(snapshot_id)`. Verification often fails right after a
   snapshot while it is still being written: retry it up to 3 times, 1 minute apart
   (constant delay), i.e. at most 4 attempts.
3. If verification still fails after that, do not crash: report verified false.

Params (`event.payload`): {"volume": "vol-db-01"}.
No events arrive.

Return: {"volume": str, "snapshot_id": str, "verified": bool, "attempts": int (the
attempt number, 1-based, on which verification succeeded) or null if it never did}.
"""

PARAMS = {"volume": "vol-db-01"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "90 seconds"), ("advance", "10 minutes")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(snapshots=[])

    def storage_snapshot(volume: str, idempotency_key: str = "") -> dict:
        """Create a snapshot of a volume. Returns {"snapshot_id": str}."""
        rec.call("storage.snapshot", volume)
        rec.once("snapshots", idempotency_key, volume)
        return {"snapshot_id": "snap-0042"}

    def storage_verify(snapshot_id: str) -> dict:
        """Verify a snapshot's checksums.

        Raises RuntimeError("snapshot still being written") while it is not ready.
        Returns {"snapshot_id": str, "ok": True, "bytes": int}.
        """
        if rec.call("storage.verify", snapshot_id) < 3:
            raise RuntimeError("snapshot still being written")
        return {"snapshot_id": snapshot_id, "ok": True, "bytes": 7340032}

    return {"storage.snapshot": storage_snapshot, "storage.verify": storage_verify}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"volume": "vol-db-01", "snapshot_id": "snap-0042", "verified": True,
                      "attempts": 3}, output
    assert state["snapshots"] == ["vol-db-01"]
    assert sum(1 for c in state["calls"] if c[0] == "storage.verify") == 3
