"""Simple: count ticket tags with a Counter and publish the top three."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Publish a weekly report of the most common support ticket tags.

1. List the tickets with `tickets.list(since)` where since is the `since` param (an ISO
   date): a list of {"id": str, "tags": [str, ...]}.
2. Count how many tickets carry each tag (a ticket lists a tag at most once). Tickets
   with no tags count as "untagged".
3. Take the 3 most common tags, most common first, ties broken alphabetically.
4. Publish with `report.publish(title, lines)`: title exactly "Top tags since <since>",
   lines a list of strings "<tag>: <count>" for the top 3, in order.

Params (`event.payload`): {"since": "2025-12-25"}.
No events arrive.

Return: {"total_tickets": int, "top_tags": [[tag, count], ...] (the top 3),
"untagged": int}.
"""

PARAMS = {"since": "2025-12-25"}
SCENARIO: list[tuple[Any, ...]] = []

TICKETS = [
    {"id": "S1", "tags": ["billing", "refund"]}, {"id": "S2", "tags": ["login"]},
    {"id": "S3", "tags": []}, {"id": "S4", "tags": ["billing"]},
    {"id": "S5", "tags": ["refund", "shipping"]}, {"id": "S6", "tags": ["login", "mobile"]},
    {"id": "S7", "tags": ["shipping"]}, {"id": "S8", "tags": []},
    {"id": "S9", "tags": ["billing", "mobile"]}, {"id": "S10", "tags": ["refund"]},
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(reports=[])

    def tickets_list(since: str) -> list:
        """Tickets opened since an ISO date. A list of {"id": str, "tags": [str]}."""
        rec.call("tickets.list", since)
        return [{"id": t["id"], "tags": list(t["tags"])} for t in TICKETS]

    def report_publish(title: str, lines: list) -> dict:
        """Publish a report to the team wiki. Returns {"url": str}."""
        rec.call("report.publish", title)
        rec.add("reports", {"title": title, "lines": list(lines)})
        return {"url": "https://wiki.example/reports/1"}

    return {"tickets.list": tickets_list, "report.publish": report_publish}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    top = [["billing", 3], ["refund", 3], ["login", 2]]
    assert output == {"total_tickets": 10, "top_tags": top, "untagged": 2}, output
    assert state["reports"] == [{"title": "Top tags since 2025-12-25",
                                 "lines": ["billing: 3", "refund: 3", "login: 2"]}], state
