"""Clean up stale git branches of a repository.

A branch is stale when its last commit is more than 90 days before the moment this run
started (event.timestamp). Protected branches are never touched. Stale merged branches
are deleted; for stale unmerged branches the author gets one chat message per branch.
Everything else is kept.

Params: {"repo": str}
Events: none
Tools: repo.branches, repo.delete_branch, chat.dm
"""

from datetime import datetime, timedelta, timezone

STALE_AFTER = timedelta(days=90)


def parse_time(text):
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when


async def run(event, step):
    repo = event.payload["repo"]
    cutoff = event.timestamp - STALE_AFTER

    branches = await step.do("list branches", lambda: tools.repo.branches(repo))

    deleted = []
    pinged = []
    kept = 0
    for branch in branches:
        name = branch["name"]
        if branch.get("protected"):
            kept += 1
            continue
        if not parse_time(branch["last_commit"]) < cutoff:
            kept += 1
            continue
        if branch.get("merged"):
            await step.do(f"delete {name}"[:256], lambda name=name:
                          tools.repo.delete_branch(repo, name))
            deleted.append(name)
        else:
            author = branch["author"]
            await step.do(f"ask {author} about {name}"[:256],
                          lambda name=name, author=author: tools.chat.dm(
                              author,
                              f"Your branch {name} in {repo} has had no commits for more "
                              f"than 90 days and is not merged. Can it be deleted?"))
            pinged.append(name)

    return {"deleted": deleted, "pinged": pinged, "kept": kept}
