"""Simple: word statistics and a shortened summary of a document."""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Annotate a document with simple word statistics.

1. Fetch it with `docs.fetch(doc_id)`: {"title": str, "text": str}.
2. Words are the whitespace-separated tokens of `text`, lowercased, with the characters
   . , ! ? ; : stripped from both ends of each token; tokens that become empty are
   dropped.
3. Compute: the number of words, the number of distinct words, and the 3 most frequent
   words (most frequent first; ties broken alphabetically).
4. The summary is `textwrap.shorten(text, width=60, placeholder=" ...")` of the original
   text.
5. Save the summary with `docs.annotate(doc_id, summary)`.

Params (`event.payload`): {"doc_id": "D-5"}.
No events arrive.

Return: {"doc_id": str, "title": str, "words": int, "distinct": int, "top": [[word, count],
[word, count], [word, count]], "summary": str}.
"""

PARAMS = {"doc_id": "D-5"}
SCENARIO: list[tuple[Any, ...]] = []

TEXT = ("The durable engine saves every step. The engine replays the plan; the plan "
        "never repeats a step! Steps are saved, plans are replayed, and the world sees "
        "each effect once.")


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(annotations=[])

    def docs_fetch(doc_id: str) -> dict:
        """Fetch a document. Returns {"id": str, "title": str, "text": str}."""
        rec.call("docs.fetch", doc_id)
        return {"id": doc_id, "title": "Replay notes", "text": TEXT}

    def docs_annotate(doc_id: str, summary: str) -> dict:
        """Attach a summary to a document. Returns {"ok": True}."""
        rec.call("docs.annotate", doc_id)
        rec.add("annotations", {"doc_id": doc_id, "summary": summary})
        return {"ok": True}

    return {"docs.fetch": docs_fetch, "docs.annotate": docs_annotate}, rec.state


def _expected() -> dict[str, Any]:
    words = [w.lower().strip(".,!?;:") for w in TEXT.split()]
    words = [w for w in words if w]
    counts = Counter(words)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return {"doc_id": "D-5", "title": "Replay notes", "words": len(words),
            "distinct": len(counts), "top": [list(t) for t in top],
            "summary": textwrap.shorten(TEXT, width=60, placeholder=" ...")}


def check(output: Any, state: dict[str, Any]) -> None:
    expected = _expected()
    assert output == expected, (output, expected)
    assert state["annotations"] == [{"doc_id": "D-5", "summary": expected["summary"]}]
