"""Simple: merge CRM contacts that share an email address."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Clean up duplicate contacts in the CRM.

1. List all contacts with `crm.contacts()`: a list of {"id": int, "email": str, "name": str}.
2. Two contacts are duplicates when their emails are equal after trimming surrounding
   whitespace and lowercasing.
3. In each group of duplicates keep the contact with the lowest id and merge every other
   one into it with `crm.merge(keep_id, duplicate_id)`, exactly once per duplicate.

Params (`event.payload`): {} (nothing needed).
No events arrive.

Return: {"total": int (contacts listed), "unique": int (distinct normalized emails),
"merged": [[keep_id, duplicate_id], ...] sorted by duplicate_id}.
"""

PARAMS: dict[str, Any] = {}
SCENARIO: list[tuple[Any, ...]] = []

CONTACTS = [
    {"id": 7, "email": "ana@shop.example", "name": "Ana"},
    {"id": 3, "email": " Ana@Shop.example ", "name": "Ana P."},
    {"id": 9, "email": "bo@shop.example", "name": "Bo"},
    {"id": 12, "email": "ANA@shop.example", "name": "A. P."},
    {"id": 5, "email": "cy@shop.example", "name": "Cy"},
    {"id": 2, "email": "bo@shop.example", "name": "Bo Diddley"},
    {"id": 11, "email": "dee@shop.example", "name": "Dee"},
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(merges=[])

    def crm_contacts() -> list:
        """All contacts. Returns a list of {"id": int, "email": str, "name": str}."""
        rec.call("crm.contacts")
        return [dict(c) for c in CONTACTS]

    def crm_merge(keep_id: int, duplicate_id: int) -> dict:
        """Merge contact `duplicate_id` into `keep_id` (the duplicate is deleted).

        Returns {"kept": int, "removed": int}.
        """
        rec.call("crm.merge", keep_id, duplicate_id)
        rec.add("merges", [keep_id, duplicate_id])
        return {"kept": keep_id, "removed": duplicate_id}

    return {"crm.contacts": crm_contacts, "crm.merge": crm_merge}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    merged = [[3, 7], [3, 12], [2, 9]]
    assert output == {"total": 7, "unique": 4,
                      "merged": sorted(merged, key=lambda m: m[1])}, output
    assert sorted(state["merges"]) == sorted(merged), state["merges"]
