"""Roll a feature flag out in stages (5, 25, 50, 100 percent), watching the error rate.

After each stage below 100 the plan waits 30 minutes and reads the feature's error rate.
If it is strictly above max_error_pct (compared as decimals), the flag is rolled back to 0
at once and no further stages run.

Params: {"feature": str, "max_error_pct": str}
Events: none
Tools: flags.set, metrics.error_rate
"""

from decimal import Decimal

STAGES = [5, 25, 50, 100]
SOAK_TIME = "30 minutes"


async def run(event, step):
    feature = event.payload["feature"]
    max_error = Decimal(str(event.payload["max_error_pct"]))

    final_percent = 0
    rolled_back = False
    failed_at = None
    error_rates = []

    for percent in STAGES:
        # Setting a flag to a fixed percent is idempotent, so a retry does no harm.
        result = await step.do(f"set {feature} to {percent}%",
                               lambda percent=percent: tools.flags.set(feature, percent))
        final_percent = result.get("percent", percent) if isinstance(result, dict) else percent

        if percent == 100:
            break

        await step.sleep(f"soak at {percent}%", SOAK_TIME)

        rate = await step.do(f"error rate at {percent}%",
                             lambda: tools.metrics.error_rate(feature))
        error_rates.append(rate)

        if Decimal(str(rate).strip()) > max_error:
            print(f"error rate {rate}% above {max_error}% at {percent}%; rolling back")
            result = await step.do(f"roll back {feature}",
                                   lambda: tools.flags.set(feature, 0))
            final_percent = result.get("percent", 0) if isinstance(result, dict) else 0
            rolled_back = True
            failed_at = percent
            break

    return {"feature": feature, "final_percent": final_percent, "rolled_back": rolled_back,
            "failed_at": failed_at, "error_rates": error_rates}
