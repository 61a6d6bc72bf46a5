"""Migrate every tenant's records to the new schema.

Tenants are handled in order. For each, record ids are read page by page (page 0, 1, ...
until an empty page) and every record is migrated in its own step with an idempotency
key, so no record is migrated twice. Records that fail for good (a non-retryable
"schema mismatch") are collected as failed and the migration goes on.

Params: {"tenants": [str, ...]}
Events: none
Tools: migrate.list, migrate.record
"""

# Stay well below the limit of 1,000 tool calls per activation: a short durable sleep
# ends the activation and the next one starts counting afresh.
CALLS_PER_ACTIVATION = 500
BREATHER = "1 second"


async def run(event, step):
    tenants = list(event.payload.get("tenants", []))

    report = {}
    total_migrated = 0
    total_failed = 0
    calls = 0

    async def tool_call_made():
        nonlocal calls
        calls += 1
        if calls % CALLS_PER_ACTIVATION == 0:
            await step.sleep(f"breather after {calls} calls", BREATHER)

    for tenant in tenants:
        migrated = 0
        failed = []
        page = 0
        while True:
            ids = await step.do(f"list {tenant} page {page}",
                                lambda tenant=tenant, page=page: tools.migrate.list(tenant, page))
            await tool_call_made()
            if not ids:
                break
            for record_id in ids:
                try:
                    await step.do(f"migrate {tenant}/{record_id}"[:256],
                                  lambda ctx, tenant=tenant, record_id=record_id:
                                  tools.migrate.record(tenant, record_id, ctx.idempotency_key))
                    migrated += 1
                except StepFailed as err:
                    print(f"{tenant}/{record_id} not migrated: {err.cause}: {err.message}")
                    failed.append(record_id)
                await tool_call_made()
            page += 1

        report[tenant] = {"migrated": migrated, "failed": failed}
        total_migrated += migrated
        total_failed += len(failed)

    return {"tenants": report, "total_migrated": total_migrated,
            "total_failed": total_failed}
