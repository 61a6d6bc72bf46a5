"""Simple: archive stale fully-on/fully-off flags, date arithmetic with a boundary."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Clean up stale feature flags.

1. List the flags with `flags.list()` -> a list of {"name": str, "rollout": int (0 to
   100, percent of users), "updated": "YYYY-MM-DD" (last change), "permanent": bool}.
2. A flag is stale when it is not permanent, its rollout is 0 or 100, and it was last
   updated at least 90 days before `as_of` (updated on 2025-10-03 is exactly 90 days
   before 2026-01-01, so it is stale).
3. Archive every stale flag once with `flags.archive(name, idempotency_key)`.

Params (`event.payload`): {"as_of": "2026-01-01"}.
No events arrive.

Return: {"archived": [name, ...] (sorted), "kept": [name, ...] (the other flags,
sorted)}.
"""

PARAMS = {"as_of": "2026-01-01"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
FLAGS = [
    {"name": "new-checkout", "rollout": 100, "updated": "2025-09-01", "permanent": False},
    {"name": "dark-mode", "rollout": 50, "updated": "2025-01-01", "permanent": False},
    {"name": "legacy-search", "rollout": 0, "updated": "2025-10-03", "permanent": False},
    {"name": "beta-banner", "rollout": 100, "updated": "2025-10-04", "permanent": False},
    {"name": "kill-switch-payments", "rollout": 0, "updated": "2024-01-01",
     "permanent": True},
    {"name": "old-onboarding", "rollout": 0, "updated": "2025-06-15", "permanent": False},
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(archived=[])

    def flags_list() -> list:
        """Every feature flag: [{"name", "rollout", "updated", "permanent"}]."""
        rec.call("flags.list")
        return [dict(f) for f in FLAGS]

    def flags_archive(name: str, idempotency_key: str = "") -> dict:
        """Archive a feature flag (it stops being evaluated). Returns {"ok": True}."""
        rec.call("flags.archive", name)
        rec.once("archived", idempotency_key, name)
        return {"ok": True}

    return {"flags.list": flags_list, "flags.archive": flags_archive}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    archived = ["legacy-search", "new-checkout", "old-onboarding"]
    assert output == {"archived": archived,
                      "kept": ["beta-banner", "dark-mode", "kill-switch-payments"]}, output
    assert sorted(state["archived"]) == archived, state["archived"]
