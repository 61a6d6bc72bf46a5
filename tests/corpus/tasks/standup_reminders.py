"""Medium: reminders at 09:30 UTC on the next working days, with date formatting."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Remind the team about standup on the next working days.

Post a reminder with `chat.post(channel, text)` at 09:30 UTC on each of the next `days`
working days (Monday to Friday; Saturdays and Sundays are skipped). The first reminder is
at the first 09:30 UTC strictly after the run starts (it may be the same day). The text
is exactly "Standup in 30 minutes (<date>)" where <date> is formatted like "Thu 01 Jan"
(English abbreviated weekday, two-digit day of the month, English abbreviated
month).
Post each reminder exactly at (not before) its time.

Params (`event.payload`): {"channel": "#team-rocket", "days": 4}.
No events arrive.

Return: {"channel": str, "posted": [str, ...] (the ISO dates "YYYY-MM-DD" of the
reminders, in order)}.
"""

PARAMS = {"channel": "#team-rocket", "days": 4}


def _two_posts(state: dict[str, Any]) -> None:
    assert [p["text"] for p in state["posts"]] == [
        "Standup in 30 minutes (Thu 01 Jan)", "Standup in 30 minutes (Fri 02 Jan)"], state


# Starts Thu 2026-01-01 00:00 UTC: Thu 1, Fri 2, (weekend), Mon 5, Tue 6.
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "2 days"), ("probe", _two_posts), ("advance", "5 days"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(posts=[])

    def chat_post(channel: str, text: str) -> dict:
        """Post a message to a chat channel. Returns {"ts": str}."""
        rec.call("chat.post", channel)
        rec.add("posts", {"channel": channel, "text": text})
        return {"ts": rec.next_id("ts")}

    return {"chat.post": chat_post}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"channel": "#team-rocket",
                      "posted": ["2026-01-01", "2026-01-02", "2026-01-05", "2026-01-06"]}, output
    assert state["posts"] == [{"channel": "#team-rocket", "text": f"Standup in 30 minutes ({d})"}
                              for d in ("Thu 01 Jan", "Fri 02 Jan", "Mon 05 Jan",
                                        "Tue 06 Jan")], state["posts"]
