"""Medium-hard: several searches, dedupe by URL, rank, shorten snippets with textwrap."""

from __future__ import annotations

import textwrap
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Prepare a research digest on a topic from several searches.

1. Run `search.web(query)` for each query in `queries` (in order); each returns a list
   of {"url": str, "title": str, "snippet": str, "score": float}.
2. Deduplicate by URL across all results: the first occurrence (in query order, then
   result order) wins.
3. Keep the 5 results with the highest score (ties: the earlier occurrence first).
4. Digest lines, in that ranked order: "<n>. <title> - <short snippet> (<url>)" with n
   from 1, where short snippet is `textwrap.shorten(snippet, width=50,
   placeholder="...")`.
5. Save once with `notes.save(title, text)`: title exactly "Digest: <topic>", text the
   lines joined with "\\n".

Params (`event.payload`): {"topic": "durable execution", "queries": ["durable execution
engines", "workflow replay determinism", "event sourcing workflows"]}.
No events arrive.

Return: {"topic": str, "unique_results": int (after dedup, before the top 5),
"urls": [url, ...] (the top 5, ranked)}.
"""

PARAMS = {"topic": "durable execution",
          "queries": ["durable execution engines", "workflow replay determinism",
                      "event sourcing workflows"]}
SCENARIO: list[tuple[Any, ...]] = []


def _results(query: str) -> list[dict[str, Any]]:
    base = {
        "durable execution engines": [("temporal", 0.91), ("dbos", 0.84), ("restate", 0.77),
                                      ("inngest", 0.6)],
        "workflow replay determinism": [("temporal", 0.95), ("replay-blog", 0.88),
                                        ("cadence", 0.77)],
        "event sourcing workflows": [("es-intro", 0.5), ("dbos", 0.99), ("axon", 0.81)],
    }[query]
    return [{"url": f"https://example.org/{name}", "title": name.replace("-", " ").title(),
             "snippet": f"{name} explained: how {query} works in practice, with code "
                        "samples, diagrams and a long discussion of trade-offs.",
             "score": score} for name, score in base]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(notes=[])

    def search_web(query: str) -> list:
        """Web search. A list of {"url": str, "title": str, "snippet": str, "score": float}."""
        rec.call("search.web", query)
        return _results(query)

    def notes_save(title: str, text: str) -> dict:
        """Save a note to the team notebook. Returns {"note_id": str}."""
        rec.call("notes.save", title)
        rec.add("notes", {"title": title, "text": text})
        return {"note_id": "NB-1"}

    return {"search.web": search_web, "notes.save": notes_save}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for q in PARAMS["queries"]:
        for r in _results(q):
            seen.setdefault(r["url"], r)
    ranked = sorted(seen.values(), key=lambda r: -r["score"])[:5]
    assert output == {"topic": "durable execution", "unique_results": len(seen),
                      "urls": [r["url"] for r in ranked]}, output
    lines = [f"{n}. {r['title']} - "
             f"{textwrap.shorten(r['snippet'], width=50, placeholder='...')} ({r['url']})"
             for n, r in enumerate(ranked, start=1)]
    assert state["notes"] == [{"title": "Digest: durable execution",
                               "text": "\n".join(lines)}], state["notes"]
