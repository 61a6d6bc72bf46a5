"""Simple: latency statistics with the statistics module; page if p95 is too high."""

from __future__ import annotations

import statistics
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Compute latency statistics for a service and page the on-call engineer if it is slow.

1. Get the last hour's request latencies with `metrics.latencies(service, "1h")`: a list
   of integers (milliseconds).
2. Compute mean, median and p95. p95 is `statistics.quantiles(values, n=20)[18]` (the
   default method). Round each of the three to 1 decimal place with `round(x, 1)`.
3. If the p95 is above `threshold_ms`, page with `alerts.page(service, message)` (message:
   any text that includes the p95). At most one page.

Params (`event.payload`): {"service": "checkout", "threshold_ms": 250}.
No events arrive.

Return: {"service": str, "count": int, "mean_ms": float, "median_ms": float,
"p95_ms": float, "paged": bool}.
"""

PARAMS = {"service": "checkout", "threshold_ms": 250}
SCENARIO: list[tuple[Any, ...]] = []

VALUES = [120, 95, 130, 101, 480, 99, 143, 88, 112, 125, 97, 610, 134, 118, 109, 92, 101,
          150, 127, 115, 106, 99, 300, 121]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(pages=[])

    def metrics_latencies(service: str, window: str) -> list:
        """Request latencies in milliseconds over `window` ("1h", "24h"). A list of int."""
        rec.call("metrics.latencies", service, window)
        return list(VALUES)

    def alerts_page(service: str, message: str) -> dict:
        """Page the on-call engineer of a service. Returns {"page_id": str}."""
        rec.call("alerts.page", service)
        rec.add("pages", {"service": service, "message": message})
        return {"page_id": rec.next_id("P")}

    return {"metrics.latencies": metrics_latencies, "alerts.page": alerts_page}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    p95 = round(statistics.quantiles(VALUES, n=20)[18], 1)
    expected = {"service": "checkout", "count": len(VALUES),
                "mean_ms": round(statistics.mean(VALUES), 1),
                "median_ms": round(statistics.median(VALUES), 1), "p95_ms": p95,
                "paged": True}
    assert output == expected, (output, expected)
    assert len(state["pages"]) == 1 and state["pages"][0]["service"] == "checkout"
