"""Build a commit, run its test suite in 4 concurrent shards, deploy to staging if green.

The build is retried with the default policy. Each test shard runs exactly once (no
retries), all four at the same time. Only when no test failed in any shard is the build
deployed to "staging"; the deploy carries an idempotency key so a retry cannot deploy
twice.

Params: {"commit": str}
Events: none
Tools: ci.build, ci.test_shard, ci.deploy
"""

TOTAL_SHARDS = 4
RUN_ONCE = {"limit": 0, "delay": "10 seconds", "backoff": "constant"}


async def run(event, step):
    commit = event.payload["commit"]

    build = await step.do(f"build {commit}", lambda: tools.ci.build(commit))
    artifact = build["artifact"]

    shard_calls = [
        step.do(f"test shard {shard} of {TOTAL_SHARDS}",
                lambda shard=shard: tools.ci.test_shard(artifact, shard, TOTAL_SHARDS),
                retries=RUN_ONCE)
        for shard in range(TOTAL_SHARDS)
    ]
    results = await step.gather(*shard_calls)

    passed = 0
    failed = 0
    failed_tests = []
    for result in results:
        passed += int(result.get("passed", 0))
        failed += int(result.get("failed", 0))
        failed_tests.extend(result.get("failures") or [])
    failed_tests = sorted(failed_tests)

    deployed = False
    if failed == 0 and not failed_tests:
        await step.do("deploy to staging", lambda ctx: tools.ci.deploy(
            artifact, "staging", ctx.idempotency_key))
        deployed = True
    else:
        print(f"{failed} test(s) failed; not deploying {artifact}")

    return {"commit": commit, "artifact": artifact, "passed": passed, "failed": failed,
            "failed_tests": failed_tests, "deployed": deployed}
