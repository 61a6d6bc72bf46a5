"""Watch a health endpoint for an hour and page once on three failures in a row.

Twelve checks: the first right away, then one every 5 minutes. Each check is a single
call (no retries); ok false, or an error from the call, counts as a failure. When three
checks in a row have failed, the on-call engineer is paged, at most once per run.
Checking continues until all twelve are done.

Params: {"service": str, "url": str}
Events: none
Tools: monitor.check, alerts.page
"""

CHECKS = 12
INTERVAL = "5 minutes"
STREAK_TO_PAGE = 3
ONE_CALL = {"limit": 0, "delay": "1 second", "backoff": "constant"}


async def run(event, step):
    service = event.payload["service"]
    url = event.payload["url"]

    failures = 0
    streak = 0
    longest = 0
    alerted_at = None

    for n in range(1, CHECKS + 1):
        if n > 1:
            await step.sleep(f"wait before check {n}", INTERVAL)
        try:
            result = await step.do(f"check {n}", lambda: tools.monitor.check(url),
                                   retries=ONE_CALL)
            ok = bool(result.get("ok"))
        except StepFailed as err:
            print(f"check {n} errored: {err.cause}: {err.message}")
            ok = False

        if ok:
            streak = 0
            continue

        failures += 1
        streak += 1
        longest = max(longest, streak)
        if streak >= STREAK_TO_PAGE and alerted_at is None:
            alerted_at = n
            await step.do("page on-call", lambda: tools.alerts.page(
                service, f"{service}: {streak} health checks in a row failed at {url}"))

    return {"checks": CHECKS, "failures": failures, "longest_failure_streak": longest,
            "alerted": alerted_at is not None, "alerted_at_check": alerted_at}
