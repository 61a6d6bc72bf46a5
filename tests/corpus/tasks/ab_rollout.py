"""Medium: staged feature rollout with error-rate gates and a rollback."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Roll a feature flag out in stages, watching the error rate.

Stages: 5, 25, 50, 100 (percent of users). For each stage in order:
1. Set the rollout with `flags.set(feature, percent)`.
2. For every stage except 100: wait 30 minutes, then read the error rate with
   `metrics.error_rate(feature)`, which returns a decimal string percentage such as
   "0.8". If it is strictly above `max_error_pct` (a decimal string param; compare as
   decimals), roll back immediately with `flags.set(feature, 0)` and stop (no further
   stages).

Params (`event.payload`): {"feature": "new-checkout", "max_error_pct": "2.0"}.
No events arrive.

Return: {"feature": str, "final_percent": int (the last percent you set),
"rolled_back": bool, "failed_at": int (the stage percent whose check failed) or null,
"error_rates": [str, ...] (every error rate you read, in order, as returned)}.
"""

PARAMS = {"feature": "new-checkout", "max_error_pct": "2.0"}
RATES = ["0.4", "1.9", "3.1"]


def _at_25(state: dict[str, Any]) -> None:
    assert state["flags"] == [5, 25], state["flags"]


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "45 minutes"), ("probe", _at_25), ("advance", "3 hours"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(flags=[])

    def flags_set(feature: str, percent: int) -> dict:
        """Serve `feature` to `percent` percent of users (0 turns it off).

        Returns {"feature": str, "percent": int}.
        """
        rec.call("flags.set", feature, percent)
        rec.add("flags", percent)
        return {"feature": feature, "percent": percent}

    def metrics_error_rate(feature: str) -> str:
        """Current error rate of requests served with `feature`, as a percentage string."""
        n = rec.call("metrics.error_rate", feature)
        return RATES[min(n, len(RATES)) - 1]

    return {"flags.set": flags_set, "metrics.error_rate": metrics_error_rate}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert Decimal("1.9") < Decimal("2.0") < Decimal("3.1")
    assert output == {"feature": "new-checkout", "final_percent": 0, "rolled_back": True,
                      "failed_at": 50, "error_rates": RATES}, output
    assert state["flags"] == [5, 25, 50, 0], state["flags"]
