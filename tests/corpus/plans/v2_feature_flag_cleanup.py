"""Clean up stale feature flags.

A flag is stale when it is not permanent, its rollout is 0 or 100 percent, and it was
last updated at least 90 days before as_of. Every stale flag is archived once; the
output lists the archived and the kept flags, each sorted by name.

Params: {"as_of": "YYYY-MM-DD"}
Events: none
Tools: flags.list, flags.archive
"""

from datetime import date, timedelta

STALE_AFTER = timedelta(days=90)


def is_stale(flag, as_of):
    if flag.get("permanent"):
        return False
    if flag.get("rollout") not in (0, 100):
        return False
    return date.fromisoformat(flag["updated"]) <= as_of - STALE_AFTER


async def run(event, step):
    as_of = date.fromisoformat(event.payload["as_of"])

    flags = await step.do("list flags", lambda: tools.flags.list())

    archived = []
    kept = []
    for flag in flags:
        if is_stale(flag, as_of):
            archived.append(flag["name"])
        else:
            kept.append(flag["name"])
    archived.sort()
    kept.sort()

    for name in archived:
        await step.do(f"archive {name}",
                      lambda ctx, n=name: tools.flags.archive(n, ctx.idempotency_key))

    return {"archived": archived, "kept": kept}
