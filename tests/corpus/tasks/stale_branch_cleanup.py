"""Simple-medium: date arithmetic on ISO timestamps; delete or ping per branch."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Clean up stale git branches.

1. List branches with `repo.branches(repo)`: [{"name": str, "last_commit": str (ISO-8601
   with offset, e.g. "2025-09-01T10:00:00+00:00"), "merged": bool, "protected": bool,
   "author": str}].
2. A branch is stale when its last commit is more than 90 days before the moment this
   run starts. Protected branches are never touched.
3. Stale and merged: delete it with `repo.delete_branch(repo, name)`.
   Stale and not merged: ask its author with `chat.dm(user, text)` (text contains the
   branch name), one message per branch.

Params (`event.payload`): {"repo": "shop/web"}.
No events arrive.

Return: {"deleted": [name, ...], "pinged": [name, ...], "kept": int} (lists in listed
order; kept = branches neither deleted nor pinged).
"""

PARAMS = {"repo": "shop/web"}
SCENARIO: list[tuple[Any, ...]] = []
BRANCHES = [
    {"name": "main", "last_commit": "2025-01-01T00:00:00+00:00", "merged": True,
     "protected": True, "author": "ci"},
    {"name": "feat/cart", "last_commit": "2025-09-15T08:00:00+00:00", "merged": True,
     "protected": False, "author": "ana"},
    {"name": "fix/typo", "last_commit": "2025-12-20T12:00:00+00:00", "merged": True,
     "protected": False, "author": "ben"},
    {"name": "spike/graphql", "last_commit": "2025-08-01T00:00:00+02:00", "merged": False,
     "protected": False, "author": "cleo"},
    {"name": "feat/edge", "last_commit": "2025-10-03T00:01:00+00:00", "merged": True,
     "protected": False, "author": "dev"},
    {"name": "feat/old-edge", "last_commit": "2025-10-02T23:00:00-02:00", "merged": True,
     "protected": False, "author": "eli"},
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(deleted=[], dms=[])

    def repo_branches(repo: str) -> list:
        """Branches of a repository.

        A list of {"name": str, "last_commit": str (ISO-8601), "merged": bool,
        "protected": bool, "author": str}.
        """
        rec.call("repo.branches", repo)
        return [dict(b) for b in BRANCHES]

    def repo_delete_branch(repo: str, name: str) -> dict:
        """Delete a branch. Returns {"deleted": str}."""
        rec.call("repo.delete_branch", name)
        rec.add("deleted", name)
        return {"deleted": name}

    def chat_dm(user: str, text: str) -> dict:
        """Send a direct chat message. Returns {"ts": str}."""
        rec.call("chat.dm", user)
        rec.add("dms", {"user": user, "text": text})
        return {"ts": rec.next_id("ts")}

    return {"repo.branches": repo_branches, "repo.delete_branch": repo_delete_branch,
            "chat.dm": chat_dm}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    # start - 90 days = 2025-10-03T00:00Z; feat/edge (00:01Z) is 1 minute too young;
    # feat/old-edge is 2025-10-03T01:00Z in UTC, also too young.
    assert output == {"deleted": ["feat/cart"], "pinged": ["spike/graphql"], "kept": 4}, output
    assert state["deleted"] == ["feat/cart"]
    assert len(state["dms"]) == 1 and state["dms"][0]["user"] == "cleo"
    assert "spike/graphql" in state["dms"][0]["text"]
