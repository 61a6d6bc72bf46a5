"""Medium: poll every 10 minutes, page on 3 consecutive readings above a threshold."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Watch a freezer sensor and page the facilities team if it stays too warm.

1. Read the sensor with `sensors.read(sensor_id)` -> {"celsius": float}: once right
   away, then every 10 minutes, at most 12 readings in all.
2. As soon as 3 consecutive readings are strictly above `threshold`, page once with
   `alerts.page(team, message, idempotency_key)` (team "facilities"; the message must
   name the sensor) and stop reading.
3. If 12 readings pass without that, finish without paging.

Params (`event.payload`): {"sensor_id": "freezer-3", "threshold": 8.0}.
No events arrive.

Return: {"sensor_id": str, "alerted": bool, "readings": int (how many readings you
took), "breach": [float, float, float] (the 3 readings that triggered the page; empty
if no page)}.
"""

PARAMS = {"sensor_id": "freezer-3", "threshold": 8.0}
READINGS = [4.0, 9.1, 9.5, 7.9, 8.2, 8.0, 8.6, 8.9, 9.3, 9.9, 10.2, 11.0, 12.0]


def _reads_so_far(count: int) -> Any:
    def probe(state: dict[str, Any]) -> None:
        reads = sum(1 for c in state["calls"] if c[0] == "sensors.read")
        assert reads == count, f"{reads} readings taken, expected {count} by now"
        assert state["pages"] == [], state["pages"]
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "25 minutes"), ("probe", _reads_so_far(3)),
    ("advance", "50 minutes"), ("probe", _reads_so_far(8)),
    ("advance", "3 hours"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(pages=[])

    def sensors_read(sensor_id: str) -> dict:
        """The sensor's current temperature: {"celsius": float}."""
        rec.call("sensors.read", sensor_id)
        n = rec.count("sensors.read")
        return {"celsius": READINGS[min(n, len(READINGS)) - 1]}

    def alerts_page(team: str, message: str, idempotency_key: str = "") -> dict:
        """Page a team's on-call person. Returns {"page_id": str}."""
        rec.call("alerts.page", team)
        rec.once("pages", idempotency_key, {"team": team, "message": message})
        return {"page_id": "pg-1"}

    return {"sensors.read": sensors_read, "alerts.page": alerts_page}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"sensor_id": "freezer-3", "alerted": True, "readings": 9,
                      "breach": [8.6, 8.9, 9.3]}, output
    assert sum(1 for c in state["calls"] if c[0] == "sensors.read") == 9
    assert len(state["pages"]) == 1, state["pages"]
    page = state["pages"][0]
    assert page["team"] == "facilities" and "freezer-3" in page["message"], page
