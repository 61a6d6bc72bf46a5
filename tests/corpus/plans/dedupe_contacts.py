"""Merge duplicate CRM contacts (same email after trimming and lowercasing).

Lists every contact once, groups them by normalized email, keeps the lowest id of each
group and merges every other contact of the group into it, one step per duplicate, in
order of duplicate id. crm.merge takes no idempotency key, so a retried merge first
checks whether the duplicate is already gone and then does not merge it again.

Params: {} (nothing needed)
Events: none
Tools: crm.contacts, crm.merge
"""

# Tool calls per activation are limited; a short durable pause now and then starts a
# fresh activation when there are very many duplicates.
MERGES_PER_BATCH = 400


def normalize(email):
    return str(email or "").strip().lower()


async def run(event, step):
    contacts = await step.do("list contacts", lambda: tools.crm.contacts())

    groups = {}
    for contact in contacts:
        groups.setdefault(normalize(contact.get("email")), []).append(contact["id"])

    pairs = []
    for ids in groups.values():
        ids = sorted(ids)
        keep_id = ids[0]
        for duplicate_id in ids[1:]:
            pairs.append([keep_id, duplicate_id])
    pairs.sort(key=lambda pair: pair[1])

    merged = []
    for index, pair in enumerate(pairs):
        keep_id, duplicate_id = pair[0], pair[1]
        if index > 0 and index % MERGES_PER_BATCH == 0:
            await step.sleep(f"pause after {index} merges", "1 second")

        async def merge_once(ctx, keep_id=keep_id, duplicate_id=duplicate_id):
            if ctx.attempt > 1:
                # An earlier attempt may have merged before failing: do not merge twice.
                current = await tools.crm.contacts()
                if not any(c.get("id") == duplicate_id for c in current):
                    return {"kept": keep_id, "removed": duplicate_id}
            return await tools.crm.merge(keep_id, duplicate_id)

        await step.do(f"merge {duplicate_id} into {keep_id}", merge_once)
        merged.append([keep_id, duplicate_id])

    return {"total": len(contacts), "unique": len(groups), "merged": merged}
