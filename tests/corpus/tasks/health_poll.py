"""Medium: poll an endpoint on a schedule, alert once after consecutive failures."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Watch a health endpoint for an hour.

Check `url` with `monitor.check(url)` 12 times: the first check right away, then one
every 5 minutes (wait 5 minutes between checks). Each check returns
{"ok": bool, "latency_ms": int}; a check with ok false is a failure (each check is one
call: do not retry a failed check).

When 3 checks in a row have failed, page once with `alerts.page(service, message)`
(service: the `service` param; message: any text). Never page more than once per run,
even if failures continue or happen again later. Keep checking until all 12 are done.

Params (`event.payload`): {"service": "search-api", "url": "https://search.internal/health"}.
No events arrive.

Return: {"checks": int, "failures": int, "longest_failure_streak": int, "alerted": bool,
"alerted_at_check": int (1-based number of the check that triggered the page) or null}.
"""

PARAMS = {"service": "search-api", "url": "https://search.internal/health"}
PATTERN = [True, True, False, False, True, False, False, False, False, True, False, True]


def _no_alert_yet(state: dict[str, Any]) -> None:
    assert state["pages"] == [], "paged before three consecutive failures"


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "27 minutes"), ("probe", _no_alert_yet),  # checks 1-6 done
    ("advance", "1 hour"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(pages=[])

    async def monitor_check(url: str) -> dict:
        """Call a health endpoint once. Returns {"ok": bool, "latency_ms": int}."""
        n = rec.call("monitor.check", url)
        ok = PATTERN[(n - 1) % len(PATTERN)]
        return {"ok": ok, "latency_ms": 40 if ok else 5000}

    def alerts_page(service: str, message: str) -> dict:
        """Page the on-call engineer of a service. Returns {"page_id": str}."""
        rec.call("alerts.page", service)
        rec.add("pages", {"service": service, "message": message})
        return {"page_id": rec.next_id("P")}

    return {"monitor.check": monitor_check, "alerts.page": alerts_page}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"checks": 12, "failures": 7, "longest_failure_streak": 4,
                      "alerted": True, "alerted_at_check": 8}, output
    assert [p["service"] for p in state["pages"]] == ["search-api"], state["pages"]
    assert sum(1 for c in state["calls"] if c[0] == "monitor.check") == 12
