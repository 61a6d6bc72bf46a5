"""Fetch a value from a flaky upstream with exponential backoff; fall back to the cache.

Retries 3 times (after 5, 10 and 20 seconds). If the upstream is still down after
that, the run does not fail: it serves the cached copy and says so in its output.

Params: {"key": str, "fail_times": int}  (fail_times: how often the fake upstream fails)
Tools: flaky.fetch, cache.get
"""


async def run(event, step):
    key = event.payload["key"]
    fail_times = event.payload.get("fail_times", 0)

    async def fetch_live(ctx):
        data = await tools.flaky.fetch(key, fail_times)
        if not data.get("value"):
            # An empty answer will not improve by asking again: stop retrying now.
            raise NonRetryableError(f"upstream has no value for {key}")
        # Keep which attempt worked; handy when tuning the retry policy later.
        return {"value": data["value"], "attempt": ctx.attempt}

    try:
        live = await step.do(f"fetch {key}", fetch_live,
                             retries={"limit": 3, "delay": "5 seconds",
                                      "backoff": "exponential"})
    except StepFailed as err:
        # The error is persisted, so a replay takes this same branch.
        print(f"live fetch of {key} gave up: {err.cause}: {err.message}")
        cached = await step.do(f"read cached {key}", lambda: tools.cache.get(key))
        return {"key": key, "source": "cache", "value": cached["value"], "attempt": None}

    return {"key": key, "source": "live", "value": live["value"], "attempt": live["attempt"]}
