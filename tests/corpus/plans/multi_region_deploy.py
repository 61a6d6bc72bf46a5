"""Deploy a version region by region; roll everything back if a region gets sick.

Each region in order is deployed, then checked 5 and 10 minutes after its deploy. An
unhealthy check rolls back every region deployed so far, this one included, newest first
(once each), and stops: later regions are not deployed.

Params: {"version": str, "regions": [str, ...]}
Events: none
Tools: deploy.region, deploy.rollback, health.region
"""

CHECK_INTERVAL = "5 minutes"
CHECKS = 2


async def run(event, step):
    version = event.payload["version"]
    regions = list(event.payload.get("regions") or [])

    deployed = []
    rolled_back = []
    failed_region = None

    for region in regions:
        # The idempotency key keeps a retried deploy from shipping twice.
        await step.do(f"deploy {version} to {region}",
                      lambda ctx, region=region: tools.deploy.region(
                          region, version, ctx.idempotency_key))
        deployed.append(region)

        healthy = True
        for check in range(1, CHECKS + 1):
            await step.sleep(f"settle {region} before check {check}", CHECK_INTERVAL)
            health = await step.do(f"health of {region} (check {check})",
                                   lambda region=region: tools.health.region(region))
            if not health.get("healthy"):
                healthy = False
                break

        if not healthy:
            failed_region = region
            print(f"{region} is unhealthy after deploying {version}; rolling back {deployed}")
            for done in reversed(deployed):
                await step.do(f"roll back {done}",
                              lambda ctx, done=done: tools.deploy.rollback(
                                  done, ctx.idempotency_key))
                rolled_back.append(done)
            break

    return {"version": version, "deployed": deployed, "failed_region": failed_region,
            "rolled_back": rolled_back}
