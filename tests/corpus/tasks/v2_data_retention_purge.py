"""Hard: per-dataset helpers in parallel, computed cutoffs, snapshot/purge/verify/restore."""

from __future__ import annotations

from typing import Any

from agents_durable import NonRetryableError
from tests.corpus.tasks._kit import Recorder

TASK = """\
Apply the data-retention policy to several datasets. Handle the datasets in parallel;
for each dataset:

1. Read its policy with `retention.policy(dataset)` -> {"days": int, "legal_hold":
   bool}. Under legal hold: touch nothing, status "held".
2. cutoff = `as_of` minus `days` days, a date "YYYY-MM-DD"; records older than the
   cutoff must go.
3. Take a snapshot first with `backup.snapshot(dataset, idempotency_key)` ->
   {"snapshot_id": str}, then purge once with `records.purge(dataset, before,
   idempotency_key)` -> {"deleted": int} (before = the cutoff).
4. Verify with `records.count_older(dataset, before)` -> int; it must be 0. If it is
   not, restore the snapshot once with `backup.restore(dataset, snapshot_id,
   idempotency_key)`: status "restored".
5. If the purge fails (a non-retryable error), restore the snapshot once the same way:
   status "failed". The other datasets carry on.
6. Otherwise status "purged".

Params (`event.payload`): {"as_of": "2026-01-01", "datasets": ["events", "sessions",
"audit", "uploads"]}.
No events arrive.

Return: {"results": {dataset: {"status": "purged" | "held" | "restored" | "failed",
"cutoff": "YYYY-MM-DD" | null (null when held), "deleted": int (records that stay
deleted: 0 unless purged)}}, "total_deleted": int}.
"""

PARAMS = {"as_of": "2026-01-01", "datasets": ["events", "sessions", "audit", "uploads"]}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
POLICY = {"events": (30, False), "sessions": (90, False), "audit": (365, True),
          "uploads": (180, False)}


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(snapshots=[], purges=[], restores=[])

    async def retention_policy(dataset: str) -> dict:
        """A dataset's retention policy: {"days": int, "legal_hold": bool}."""
        rec.call("retention.policy", dataset)
        days, hold = POLICY[dataset]
        return {"days": days, "legal_hold": hold}

    def backup_snapshot(dataset: str, idempotency_key: str = "") -> dict:
        """Snapshot a dataset. Returns {"snapshot_id": str}."""
        rec.call("backup.snapshot", dataset)
        rec.once("snapshots", idempotency_key, dataset)
        return {"snapshot_id": f"snap-{dataset}"}

    def records_purge(dataset: str, before: str, idempotency_key: str = "") -> dict:
        """Delete a dataset's records older than a date. Returns {"deleted": int}.

        Raises a non-retryable error when the dataset is locked.
        """
        rec.call("records.purge", dataset, before)
        if not any(s == dataset for s in rec.state["snapshots"]):
            raise NonRetryableError(f"refusing to purge {dataset} without a snapshot")
        rec.once("purges", idempotency_key, (dataset, before))
        if dataset == "uploads":
            raise NonRetryableError("dataset uploads is locked by a running export")
        return {"deleted": {"events": 1200, "sessions": 300}[dataset]}

    def records_count_older(dataset: str, before: str) -> int:
        """How many records of a dataset are older than a date."""
        rec.call("records.count_older", dataset, before)
        return 5 if dataset == "sessions" else 0

    def backup_restore(dataset: str, snapshot_id: str, idempotency_key: str = "") -> dict:
        """Restore a dataset from a snapshot. Returns {"ok": True}."""
        rec.call("backup.restore", dataset, snapshot_id)
        rec.once("restores", idempotency_key, (dataset, snapshot_id))
        return {"ok": True}

    return {"retention.policy": retention_policy, "backup.snapshot": backup_snapshot,
            "records.purge": records_purge, "records.count_older": records_count_older,
            "backup.restore": backup_restore}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"results": {
        "events": {"status": "purged", "cutoff": "2025-12-02", "deleted": 1200},
        "sessions": {"status": "restored", "cutoff": "2025-10-03", "deleted": 0},
        "audit": {"status": "held", "cutoff": None, "deleted": 0},
        "uploads": {"status": "failed", "cutoff": "2025-07-05", "deleted": 0}},
        "total_deleted": 1200}, output
    assert sorted(state["snapshots"]) == ["events", "sessions", "uploads"], state["snapshots"]
    assert sorted(state["purges"]) == [("events", "2025-12-02"), ("sessions", "2025-10-03"),
                                       ("uploads", "2025-07-05")], state["purges"]
    assert sorted(state["restores"]) == [("sessions", "snap-sessions"),
                                         ("uploads", "snap-uploads")], state["restores"]
