"""Apply the data-retention policy to several datasets, in parallel.

For each dataset: read its retention policy; a dataset under legal hold is left alone
("held"). Otherwise the cutoff is as_of minus the policy's days. Snapshot the dataset,
purge the records older than the cutoff once, and verify none are left. Records still
older than the cutoff mean the snapshot is restored ("restored"); a failed purge also
restores the snapshot ("failed") while the other datasets carry on. Otherwise "purged".

Params: {"as_of": "YYYY-MM-DD", "datasets": [str]}
Events: none
Tools: retention.policy, backup.snapshot, records.purge, records.count_older,
       backup.restore
"""

from datetime import date, timedelta


async def run(event, step):
    as_of = date.fromisoformat(event.payload["as_of"])
    datasets = event.payload["datasets"]

    async def restore(dataset, snapshot_id):
        await step.do(f"restore {dataset}", lambda ctx: tools.backup.restore(
            dataset, snapshot_id, ctx.idempotency_key))

    async def apply_policy(dataset):
        policy = await step.do(f"policy {dataset}",
                               lambda: tools.retention.policy(dataset))
        if policy.get("legal_hold"):
            return {"status": "held", "cutoff": None, "deleted": 0}

        cutoff = (as_of - timedelta(days=policy["days"])).isoformat()

        snapshot = await step.do(f"snapshot {dataset}", lambda ctx: tools.backup.snapshot(
            dataset, ctx.idempotency_key))
        snapshot_id = snapshot["snapshot_id"]

        try:
            purged = await step.do(f"purge {dataset}", lambda ctx: tools.records.purge(
                dataset, cutoff, ctx.idempotency_key))
        except StepFailed as err:
            print(f"purge of {dataset} failed: {err.message}; restoring {snapshot_id}")
            await restore(dataset, snapshot_id)
            return {"status": "failed", "cutoff": cutoff, "deleted": 0}

        left = await step.do(f"verify {dataset}",
                             lambda: tools.records.count_older(dataset, cutoff))
        if left != 0:
            print(f"{left} records of {dataset} still older than {cutoff}; restoring")
            await restore(dataset, snapshot_id)
            return {"status": "restored", "cutoff": cutoff, "deleted": 0}

        return {"status": "purged", "cutoff": cutoff, "deleted": purged["deleted"]}

    outcomes = await step.gather(*[apply_policy(dataset) for dataset in datasets])

    results = {}
    total_deleted = 0
    for dataset, outcome in zip(datasets, outcomes):
        results[dataset] = outcome
        total_deleted += outcome["deleted"]

    return {"results": results, "total_deleted": total_deleted}
