"""Simple: keyword priorities, one owner lookup per component, counts per team."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Triage the untriaged bugs.

1. List them with `bugs.untriaged()` -> a list of {"id": str, "title": str,
   "component": str}.
2. Find the owning team of each distinct component with `teams.owner(component)` ->
   {"team": str}; look each component up only once.
3. Priority from the title, case-insensitive: "P1" if it contains "crash" or
   "data loss", else "P2" if it contains "error", else "P3".
4. Assign each bug once with `bugs.assign(bug_id, team, priority, idempotency_key)`.

Params (`event.payload`): {} (nothing).
No events arrive.

Return: {"assigned": [{"bug_id": str, "team": str, "priority": str}, ...] (in the order
listed), "by_team": {team: number of bugs}}.
"""

PARAMS: dict[str, Any] = {}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
BUGS = [
    {"id": "BUG-1", "title": "App Crashes on login", "component": "auth"},
    {"id": "BUG-2", "title": "Typo in footer", "component": "web"},
    {"id": "BUG-3", "title": "Error saving draft", "component": "editor"},
    {"id": "BUG-4", "title": "Data loss after sync ERROR", "component": "editor"},
    {"id": "BUG-5", "title": "Slow login page", "component": "auth"},
]
OWNERS = {"auth": "identity", "web": "frontend", "editor": "docs"}


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(assigned=[])

    def bugs_untriaged() -> list:
        """Bugs without a team: [{"id": str, "title": str, "component": str}]."""
        rec.call("bugs.untriaged")
        return [dict(b) for b in BUGS]

    def teams_owner(component: str) -> dict:
        """The team that owns a component: {"team": str}."""
        rec.call("teams.owner", component)
        return {"team": OWNERS[component]}

    def bugs_assign(bug_id: str, team: str, priority: str, idempotency_key: str = "") -> dict:
        """Assign a bug to a team with a priority. Returns {"ok": True}."""
        rec.call("bugs.assign", bug_id)
        rec.once("assigned", idempotency_key, (bug_id, team, priority))
        return {"ok": True}

    return {"bugs.untriaged": bugs_untriaged, "teams.owner": teams_owner,
            "bugs.assign": bugs_assign}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assigned = [("BUG-1", "identity", "P1"), ("BUG-2", "frontend", "P3"),
                ("BUG-3", "docs", "P2"), ("BUG-4", "docs", "P1"), ("BUG-5", "identity", "P3")]
    assert output == {"assigned": [{"bug_id": b, "team": t, "priority": p}
                                   for b, t, p in assigned],
                      "by_team": {"identity": 2, "frontend": 1, "docs": 2}}, output
    assert sorted(state["assigned"]) == assigned, state["assigned"]
    lookups = sorted(c[1] for c in state["calls"] if c[0] == "teams.owner")
    assert lookups == ["auth", "editor", "web"], lookups
