"""Hard: hourly polls, median of minima, Decimal repricing rule."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Watch competitors' prices for a product for a few hours and reprice if we are too
expensive.

1. Poll `prices.competitors(sku)` 4 times: right away and then every hour (wait 1 hour
   between polls). Each poll returns a list of price strings (decimals) such as
   ["19.99", "21.50"]; take the lowest price of each poll.
2. The market price is the median of those 4 lowest prices (for an even count, the mean
   of the two middle values), computed exactly with decimals.
3. Read our price with `catalog.get(sku)` -> {"price": str} (after the polls).
4. If our price is more than 5% above the market price (our > market * 1.05), set a new
   price with `catalog.set_price(sku, price)`: the market price rounded to cents
   (ROUND_HALF_UP), minus 0.01. Otherwise change nothing.

Params (`event.payload`): {"sku": "HDPH-200"}.
No events arrive.

Return: {"sku": str, "lowest": [str, ...] (the lowest price of each poll, as returned),
"market": str (2 decimals), "old_price": str, "new_price": str or null, "changed":
bool}.
"""

PARAMS = {"sku": "HDPH-200"}
POLLS = [["189.00", "179.99", "199.00"], ["181.25", "185.00"], ["175.50", "190.00"],
         ["183.10", "178.40", "201.00"]]
SCENARIO: list[tuple[Any, ...]] = [("advance", "2 hours"), ("advance", "2 hours")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(prices=[])

    def prices_competitors(sku: str) -> list:
        """Current competitor prices for a product: a list of decimal strings."""
        n = rec.call("prices.competitors", sku)
        return list(POLLS[min(n, 4) - 1])

    def catalog_get(sku: str) -> dict:
        """Our catalog entry for a product. Returns {"sku": str, "price": str}."""
        rec.call("catalog.get", sku)
        return {"sku": sku, "price": "199.00"}

    def catalog_set_price(sku: str, price: str) -> dict:
        """Change our price for a product (decimal string). Returns {"ok": True}."""
        rec.call("catalog.set_price", sku, price)
        rec.add("prices", price)
        return {"ok": True}

    return {"prices.competitors": prices_competitors, "catalog.get": catalog_get,
            "catalog.set_price": catalog_set_price}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    # lowest: 179.99, 181.25, 175.50, 178.40 -> median (178.40 + 179.99) / 2 = 179.195
    # 199.00 > 179.195 * 1.05 = 188.15475 -> new price 179.20 - 0.01 = 179.19
    assert output == {"sku": "HDPH-200", "lowest": ["179.99", "181.25", "175.50", "178.40"],
                      "market": "179.20", "old_price": "199.00", "new_price": "179.19",
                      "changed": True}, output
    assert state["prices"] == ["179.19"]
    assert sum(1 for c in state["calls"] if c[0] == "prices.competitors") == 4
