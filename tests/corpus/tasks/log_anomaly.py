"""Medium-hard: mean/pstdev over hourly counts, threshold, one ticket per anomaly."""

from __future__ import annotations

import statistics
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Find anomalous hours in yesterday's error logs.

1. Get the 24 hourly error counts with `logs.hourly_errors(service, date)`: a list of 24
   ints, index = hour of day (0-23).
2. Compute the mean and the population standard deviation (`statistics.pstdev`) of the
   24 counts. An hour is anomalous when its count is strictly greater than
   mean + 2 * pstdev.
3. Open one ticket per anomalous hour with `tickets.open(service, title)`, title exactly
   "<service>: <count> errors at <HH>:00 on <date>" (HH two digits).

Params (`event.payload`): {"service": "payments", "date": "2025-12-31"}.
No events arrive.

Return: {"service": str, "mean": float (rounded to 2 decimals with round()), "stdev":
float (rounded to 2 decimals), "anomalies": [hour, ...] (ascending ints)}.
"""

PARAMS = {"service": "payments", "date": "2025-12-31"}
SCENARIO: list[tuple[Any, ...]] = []
COUNTS = [12, 9, 8, 7, 7, 9, 14, 22, 30, 28, 25, 27, 31, 29, 26, 24, 140, 27, 23, 19, 17,
          66, 13, 11]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(tickets=[])

    def logs_hourly_errors(service: str, date: str) -> list:
        """Error counts per hour (0-23) of a service on an ISO date: a list of 24 ints."""
        rec.call("logs.hourly_errors", service, date)
        return list(COUNTS)

    def tickets_open(service: str, title: str) -> dict:
        """Open an ops ticket. Returns {"ticket_id": str}."""
        rec.call("tickets.open", service)
        rec.add("tickets", title)
        return {"ticket_id": rec.next_id("OPS")}

    return {"logs.hourly_errors": logs_hourly_errors, "tickets.open": tickets_open}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    mean, sd = statistics.mean(COUNTS), statistics.pstdev(COUNTS)
    hours = [h for h, c in enumerate(COUNTS) if c > mean + 2 * sd]
    assert hours == [16], hours  # the fixture itself: 66 stays under the threshold
    assert output == {"service": "payments", "mean": round(mean, 2), "stdev": round(sd, 2),
                      "anomalies": hours}, output
    assert state["tickets"] == ["payments: 140 errors at 16:00 on 2025-12-31"], state
