"""Take a backup snapshot of a volume and verify it.

Creates exactly one snapshot (the idempotency key makes a retried create safe), then
verifies it. Verification often fails while the snapshot is still being written, so it is
retried up to 3 times, 1 minute apart (at most 4 attempts). If it still fails, the run
does not crash: it reports verified false.

Params: {"volume": str}
Events: none
Tools: storage.snapshot, storage.verify
"""

VERIFY_RETRIES = {"limit": 3, "delay": "1 minute", "backoff": "constant"}


async def run(event, step):
    volume = event.payload["volume"]

    snapshot = await step.do(
        f"snapshot {volume}",
        lambda ctx: tools.storage.snapshot(volume, ctx.idempotency_key),
    )
    snapshot_id = snapshot["snapshot_id"]

    async def verify(ctx):
        result = await tools.storage.verify(snapshot_id)
        if not result.get("ok"):
            raise RuntimeError(f"verification of {snapshot_id} did not pass")
        return {"ok": True, "bytes": result.get("bytes"), "attempt": ctx.attempt}

    try:
        verified = await step.do(f"verify {snapshot_id}", verify, retries=VERIFY_RETRIES)
    except StepFailed as err:
        print(f"verification of {snapshot_id} gave up: {err.cause}: {err.message}")
        return {"volume": volume, "snapshot_id": snapshot_id, "verified": False,
                "attempts": None}

    return {"volume": volume, "snapshot_id": snapshot_id, "verified": True,
            "attempts": verified["attempt"]}
