"""Simple: format a notice with textwrap and post it."""

from __future__ import annotations

import textwrap
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Post a maintenance notice to the office notice board.

Build the notice text as lines joined with "\\n":
- first line: the `title` param in upper case;
- then the `body` param wrapped to 40 columns with `textwrap.wrap(body, width=40)`
  (one line per wrapped line);
- then a last line "-- " followed by the `author` param.

Post it once with `board.post(text)`.

Params (`event.payload`): {"title": "Planned maintenance", "body": "...", "author":
"Facilities"} (the body is a sentence or two of plain text).
No events arrive.

Return: {"lines": int (the number of lines in the posted text), "post_id": str (from
board.post)}.
"""

PARAMS = {"title": "Planned maintenance",
          "body": "The elevators in building B will be out of service on Saturday from "
                  "08:00 to 14:00 while the technicians replace the control units. "
                  "Please use the stairs or the elevators in building A.",
          "author": "Facilities"}
SCENARIO: list[tuple[Any, ...]] = []


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(posts=[])

    def board_post(text: str) -> dict:
        """Post a notice to the office board. Returns {"post_id": str}."""
        rec.call("board.post")
        rec.add("posts", text)
        return {"post_id": rec.next_id("N")}

    return {"board.post": board_post}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    lines = ["PLANNED MAINTENANCE", *textwrap.wrap(PARAMS["body"], width=40), "-- Facilities"]
    assert state["posts"] == ["\n".join(lines)], state["posts"]
    assert output == {"lines": len(lines), "post_id": "N-1"}, output
