"""Ship a commit through build, 3 concurrent test shards and a 10 percent canary release.

The build is retried with the default policy (the build farm fails transiently). Any
failing shard stops the run with status "tests_failed". Otherwise 10 percent of traffic
goes to the new image and its error rate is checked 3 times, 10 minutes apart. A reading
above max_error_rate (compared as decimals) rolls back at once; three good readings
promote the image.

Params: {"commit": str, "max_error_rate": str (decimal percentage)}
Events: none
Tools: ci.build, ci.test_shard, release.canary, release.canary_errors, release.promote,
       release.rollback
"""

from decimal import Decimal

SHARDS = 3
CANARY_PERCENT = 10
CHECKS = 3
CHECK_INTERVAL = "10 minutes"


async def run(event, step):
    commit = event.payload["commit"]
    max_error_rate = Decimal(str(event.payload["max_error_rate"]))

    build = await step.do(f"build {commit}", lambda: tools.ci.build(commit))
    image = build["image"]

    shard_results = await step.gather(*[
        step.do(f"test shard {shard}", lambda shard=shard: tools.ci.test_shard(image, shard))
        for shard in range(SHARDS)
    ])
    if not all(result.get("ok") for result in shard_results):
        print(f"tests failed for {image}; not releasing")
        return {"commit": commit, "image": image, "status": "tests_failed", "checks": []}

    await step.do("start canary", lambda ctx: tools.release.canary(
        image, CANARY_PERCENT, ctx.idempotency_key))

    checks = []
    for number in range(1, CHECKS + 1):
        await step.sleep(f"wait before check {number}", CHECK_INTERVAL)
        reading = await step.do(f"check canary {number}",
                                lambda: tools.release.canary_errors(image))
        rate = str(reading["error_rate"])
        checks.append(rate)
        if Decimal(rate) > max_error_rate:
            print(f"canary error rate {rate} is above {max_error_rate}; rolling back")
            await step.do("rollback", lambda ctx: tools.release.rollback(
                image, ctx.idempotency_key))
            return {"commit": commit, "image": image, "status": "rolled_back",
                    "checks": checks}

    await step.do("promote", lambda ctx: tools.release.promote(image, ctx.idempotency_key))
    return {"commit": commit, "image": image, "status": "promoted", "checks": checks}
