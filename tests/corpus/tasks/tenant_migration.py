"""Hard: nested loops of steps (tenants x pages x records), permanent failures skipped."""

from __future__ import annotations

from typing import Any

from agents_durable import NonRetryableError
from tests.corpus.tasks._kit import Recorder

TASK = """\
Migrate every tenant's records to the new schema.

For each tenant in `tenants`, in order:
1. Read its records page by page with `migrate.list(tenant, page)` for page = 0, 1,
   2, ...; each call returns a list of record ids; an empty list means there are no more
   pages.
2. Migrate every record with `migrate.record(tenant, record_id, idempotency_key)`.
   Some records cannot be migrated and raise a non-retryable "schema mismatch" error:
   collect those as failed and go on. Every record must be migrated at most once.

Params (`event.payload`): {"tenants": ["acme", "globex", "hooli"]}.
No events arrive.

Return: {"tenants": {tenant: {"migrated": int, "failed": [record_id, ...] (in the
order encountered)}}, "total_migrated": int, "total_failed": int}.
"""

PARAMS = {"tenants": ["acme", "globex", "hooli"]}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
DATA = {
    "acme": [["a1", "a2", "a3"], ["a4", "a5"]],
    "globex": [["g1", "g2", "g3"], ["g4"], ["g5", "g6"]],
    "hooli": [],
}
BROKEN = {"a4", "g2", "g6"}


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(migrated=[])

    def migrate_list(tenant: str, page: int) -> list:
        """Record ids of one page (0-based) of a tenant; [] after the last page."""
        rec.call("migrate.list", tenant, page)
        pages = DATA[tenant]
        return list(pages[page]) if page < len(pages) else []

    def migrate_record(tenant: str, record_id: str, idempotency_key: str = "") -> dict:
        """Rewrite one record in the new schema. Returns {"ok": True}.

        Raises a non-retryable error "schema mismatch" for records that cannot be
        converted automatically.
        """
        rec.call("migrate.record", tenant, record_id)
        if record_id in BROKEN:
            raise NonRetryableError(f"schema mismatch in {record_id}")
        rec.once("migrated", idempotency_key, record_id)
        return {"ok": True}

    return {"migrate.list": migrate_list, "migrate.record": migrate_record}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"tenants": {"acme": {"migrated": 4, "failed": ["a4"]},
                                  "globex": {"migrated": 4, "failed": ["g2", "g6"]},
                                  "hooli": {"migrated": 0, "failed": []}},
                      "total_migrated": 8, "total_failed": 3}, output
    assert sorted(state["migrated"]) == ["a1", "a2", "a3", "a5", "g1", "g3", "g4", "g5"]
    calls = [c for c in state["calls"] if c[0] == "migrate.record"]
    assert len(calls) == 11, calls
