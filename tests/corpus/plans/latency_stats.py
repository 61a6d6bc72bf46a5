"""Compute last-hour latency statistics for a service and page on-call if it is slow.

Fetch the last hour's request latencies once, compute mean, median and p95
(statistics.quantiles with n=20, index 18), each rounded to 1 decimal, and page the
on-call engineer once when the p95 is above the threshold.

Params: {"service": str, "threshold_ms": number}
Events: none
Tools: metrics.latencies, alerts.page
"""

from statistics import mean, median, quantiles


async def run(event, step):
    service = event.payload["service"]
    threshold = event.payload["threshold_ms"]

    values = await step.do("load latencies", lambda: tools.metrics.latencies(service, "1h"))
    values = list(values)
    count = len(values)

    if count == 0:
        print(f"no latencies for {service} in the last hour")
        return {"service": service, "count": 0, "mean_ms": None, "median_ms": None,
                "p95_ms": None, "paged": False}

    mean_ms = round(float(mean(values)), 1)
    median_ms = round(float(median(values)), 1)
    if count >= 2:
        p95_raw = quantiles(values, n=20)[18]
    else:
        p95_raw = values[0]
    p95_ms = round(float(p95_raw), 1)

    paged = False
    if p95_ms > threshold:
        await step.do("page on-call", lambda: tools.alerts.page(
            service, f"{service} is slow: p95 latency {p95_ms} ms over the last hour "
                     f"(threshold {threshold} ms, {count} requests)"))
        paged = True

    return {"service": service, "count": count, "mean_ms": mean_ms, "median_ms": median_ms,
            "p95_ms": p95_ms, "paged": paged}
