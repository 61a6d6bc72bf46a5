"""Simple: sleep until a computed datetime (next Monday 09:00 UTC), then post."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Schedule an announcement for the start of next week.

Post `text` to `channel` with `chat.post(channel, text)` at the first Monday 09:00 UTC
strictly after the moment this run starts (if the run starts on a Monday before 09:00,
that same Monday counts). Post exactly once, and not before that time.

Params (`event.payload`): {"channel": "#general", "text": "New sprint starts today!"}.
No events arrive.

Return: {"channel": str, "scheduled_for": str (the posting time as ISO-8601 in UTC, like
"2026-03-02T09:00:00+00:00", i.e. `datetime.isoformat()` of an aware UTC datetime)}.
"""

PARAMS = {"channel": "#general", "text": "New sprint starts today!"}


def _not_yet(state: dict[str, Any]) -> None:
    assert state["posts"] == [], "posted before Monday 09:00 UTC"


# The run starts Thursday 2026-01-01 00:00 UTC, so the post is due Mon 2026-01-05 09:00.
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "4 days"), ("probe", _not_yet), ("expect_status", "waiting"),
    ("advance", "8 hours"), ("probe", _not_yet),
    ("advance", "2 hours"),
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
    assert output == {"channel": "#general",
                      "scheduled_for": "2026-01-05T09:00:00+00:00"}, output
    assert state["posts"] == [{"channel": "#general", "text": "New sprint starts today!"}]
