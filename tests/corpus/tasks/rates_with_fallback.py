"""Medium: exponential retries against a dead primary, StepFailed fallback, Decimal."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Convert an amount between currencies with a live exchange rate.

1. Ask the primary rate provider `fx.primary(base, quote)`; it returns the rate as a
   decimal string. It is flaky: retry it 3 times with exponential backoff starting at
   2 seconds (so at most 4 calls).
2. If it still fails, use the secondary provider `fx.secondary(base, quote)` instead
   (same result format).
3. converted = amount * rate with decimal arithmetic, rounded to 2 places with
   ROUND_HALF_UP.

Params (`event.payload`): {"base": "EUR", "quote": "USD", "amount": "250.00"}.
No events arrive.

Return: {"rate": str (as the provider returned it), "source": "primary" or "secondary",
"converted": str (2 decimals)}.
"""

PARAMS = {"base": "EUR", "quote": "USD", "amount": "250.00"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "10 seconds"), ("advance", "1 minute")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder()

    def fx_primary(base: str, quote: str) -> str:
        """Exchange rate base->quote from the primary provider, e.g. "1.0842".

        Raises ConnectionError when the provider is down.
        """
        rec.call("fx.primary", base, quote)
        raise ConnectionError("primary FX provider timed out")

    def fx_secondary(base: str, quote: str) -> str:
        """Exchange rate base->quote from the secondary provider, e.g. "1.0842"."""
        rec.call("fx.secondary", base, quote)
        return "1.0842"

    return {"fx.primary": fx_primary, "fx.secondary": fx_secondary}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"rate": "1.0842", "source": "secondary", "converted": "271.05"}, output
    calls = [c[0] for c in state["calls"]]
    assert calls.count("fx.primary") == 4, calls
    assert calls.count("fx.secondary") == 1, calls
