"""Deterministic fake tools for the example-plan gallery.

This is host code (ordinary Python), not plan code. Every tool answers from its arguments
alone, except where a tool is *meant* to remember something (``flaky.fetch`` fails the
first N calls per key; ``notify.send`` and ``warehouse.load`` drop duplicates by
idempotency key). Whatever the tools did is recorded in :data:`STATE`, a
:class:`GalleryState`, so a test can check the side effects a user would check: which
tickets were opened, which messages went out, what was loaded.

Call :func:`reset` before each scenario: the flaky counters and the records are
module-level and shared by every engine in the process.

Usage::

    from gallery_tools import STATE, register_gallery_tools, reset

    reset()
    names = register_gallery_tools(engine.tools)
    agent = engine.agent("gallery", tools=names)

The docstrings of the tool functions are shown to agents, so they describe arguments and
results as a plan author needs them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "FLAKY_CALLS",
    "STATE",
    "GalleryState",
    "ToolRegistry",
    "UpstreamUnavailable",
    "register_gallery_tools",
    "reset",
]


class UpstreamUnavailable(RuntimeError):
    """Raised by ``flaky.fetch`` while the simulated upstream is still "down"."""


@dataclass
class GalleryState:
    """Everything the gallery tools did since the last :func:`reset`, for tests to inspect.

    Lists keep call order. ``flaky_calls`` counts ``flaky.fetch`` calls per key (failed and
    successful). ``calls`` is the name of every tool call in order, duplicates included.
    """

    calls: list[str] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    flaky_calls: dict[str, int] = field(default_factory=dict)
    loads: list[dict[str, Any]] = field(default_factory=list)
    bookings: list[dict[str, Any]] = field(default_factory=list)
    charges: list[dict[str, Any]] = field(default_factory=list)
    plan_changes: list[dict[str, Any]] = field(default_factory=list)
    searches: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def clear(self) -> None:
        """Forget everything, in place (aliases such as :data:`FLAKY_CALLS` stay valid)."""
        with self.lock:
            self.calls.clear()
            self.tickets.clear()
            self.notifications.clear()
            self.flaky_calls.clear()
            self.loads.clear()
            self.bookings.clear()
            self.charges.clear()
            self.plan_changes.clear()
            self.searches.clear()

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of the records; scenarios' ``expected_state`` compares to it.

        Besides the raw lists it offers views that do not depend on instance ids or
        idempotency keys: ``recipients`` (``to`` of each delivered notification),
        ``loaded_rows`` (row count of each load), ``charge_statuses``.
        """
        with self.lock:
            return {
                "calls": list(self.calls),
                "tickets": [dict(t) for t in self.tickets],
                "notifications": [dict(n) for n in self.notifications],
                "recipients": [n["to"] for n in self.notifications],
                "flaky_calls": dict(self.flaky_calls),
                "loads": [dict(x) for x in self.loads],
                "bookings": [dict(b) for b in self.bookings],
                "loaded_rows": [x["rows"] for x in self.loads],
                "charges": [dict(c) for c in self.charges],
                "charge_statuses": [c["result"]["status"] for c in self.charges],
                "plan_changes": [dict(p) for p in self.plan_changes],
                "searches": [dict(s) for s in self.searches],
            }


#: The one state every gallery tool records into.
STATE = GalleryState()

#: ``flaky.fetch`` calls per key; the same dict as ``STATE.flaky_calls``.
FLAKY_CALLS = STATE.flaky_calls


def reset() -> None:
    """Clear :data:`STATE` and the flaky counters. Call it before every scenario."""
    STATE.clear()


def _record(name: str) -> None:
    with STATE.lock:
        STATE.calls.append(name)


# -- orders and tickets -----------------------------------------------------------------


def orders_get(order_id: int | str) -> dict[str, Any]:
    """Look up an order by id.

    Returns ``{"id", "customer", "email", "status", "items": [{"sku", "qty"}], "total"}``;
    ``total`` is a decimal string such as ``"59.90"``.
    """
    _record("orders.get")
    text = str(order_id).lstrip("#")
    number = int(text) if text.isdigit() else len(text)
    return {
        "id": order_id,
        "customer": f"customer-{order_id}",
        "email": f"customer-{order_id}@example.com",
        "status": "shipped",
        "items": [{"sku": "MUG-01", "qty": 1 + number % 3}, {"sku": "TEA-12", "qty": 2}],
        "total": f"{29 + number % 50}.90",
    }


def tickets_open(subject: int | str, reason: str) -> dict[str, Any]:
    """Open a support ticket about ``subject`` (an order id, incident id, ...).

    Returns ``{"ticket_id", "subject", "reason"}``. The ticket id is derived from the
    subject (``"TICKET-<subject>"``), so opening it twice returns the same ticket.
    """
    _record("tickets.open")
    ticket = {"ticket_id": f"TICKET-{subject}", "subject": subject, "reason": reason}
    with STATE.lock:
        if all(t["ticket_id"] != ticket["ticket_id"] for t in STATE.tickets):
            STATE.tickets.append(dict(ticket))
    return ticket


# -- notifications ----------------------------------------------------------------------


def notify_send(to: str, message: str, idempotency_key: str | None = None) -> dict[str, Any]:
    """Send ``message`` to ``to`` (an email address or a handle).

    Pass the step's ``ctx.idempotency_key`` as ``idempotency_key``: a second send with the
    same key is not delivered again and returns the first receipt with
    ``"duplicate": True``. Returns ``{"message_id", "to", "duplicate"}``.
    """
    _record("notify.send")
    with STATE.lock:
        if idempotency_key is not None:
            for sent in STATE.notifications:
                if sent["idempotency_key"] == idempotency_key:
                    return {"message_id": sent["message_id"], "to": sent["to"],
                            "duplicate": True}
        message_id = f"msg-{len(STATE.notifications) + 1}"
        STATE.notifications.append({"message_id": message_id, "to": to, "message": message,
                                    "idempotency_key": idempotency_key})
    return {"message_id": message_id, "to": to, "duplicate": False}


# -- research ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return "-".join(words[:6]) or "query"


def search(query: str, page: int = 1) -> list[dict[str, Any]]:
    """Search the web. Returns up to 3 results ``[{"url", "title", "snippet"}]``.

    ``page`` (1-based) pages through further results; consecutive pages overlap by one
    result, so deduplicate by ``url``. Pages beyond 5 are empty.
    """
    _record("search")
    with STATE.lock:
        STATE.searches.append({"query": query, "page": page})
    if page < 1 or page > 5:
        return []
    slug = _slug(query)
    results = []
    for n in (2 * page - 1, 2 * page, 2 * page + 1):
        results.append({
            "url": f"https://example.org/{slug}/{n}",
            "title": f"{query} (source {n})",
            "snippet": (f"Source {n} finds that {query.rstrip('?').lower()} depends on "
                        f"factor {n}, which matters most when the work runs for days and "
                        f"must survive restarts."),
        })
    return results


def summarize(text: str, max_words: int = 12) -> str:
    """Summarize ``text`` in at most ``max_words`` words (deterministic: the leading words,
    with "..." when something was cut)."""
    _record("summarize")
    words = text.split()
    if len(words) <= max_words:
        return " ".join(words)
    return " ".join(words[:max_words]) + " ..."


# -- flaky upstream and cache -----------------------------------------------------------


def flaky_fetch(key: str, fail_times: int = 0) -> dict[str, Any]:
    """Fetch ``key`` from an unreliable upstream.

    The first ``fail_times`` calls for a given key raise ``UpstreamUnavailable``; later
    calls return ``{"key", "value", "call"}`` where ``call`` is the 1-based call number for
    this key. Made for showing ``retries=`` and ``StepFailed``.
    """
    _record("flaky.fetch")
    with STATE.lock:
        calls = STATE.flaky_calls.get(key, 0) + 1
        STATE.flaky_calls[key] = calls
    if calls <= fail_times:
        raise UpstreamUnavailable(f"upstream unavailable for {key!r} (call {calls}, "
                                  f"fails the first {fail_times})")
    return {"key": key, "value": f"fresh {key}", "call": calls}


def cache_get(key: str) -> dict[str, Any]:
    """Read the last cached copy of ``key``. Returns ``{"key", "value", "stale": True}``."""
    _record("cache.get")
    return {"key": key, "value": f"cached {key}", "stale": True}


# -- warehouse --------------------------------------------------------------------------

#: How many batches every source holds; ``warehouse.extract`` returns [] past the end.
SOURCE_BATCHES = 5
ROWS_PER_BATCH = 4


def warehouse_extract(source: str, batch: int) -> list[dict[str, Any]]:
    """Read batch number ``batch`` (0-based) of ``source``.

    Returns up to 4 rows ``{"id", "customer", "amount", "status"}`` (``amount`` is a
    decimal string, ``status`` is "paid" or "refunded", ``customer`` is unnormalized
    text). Returns ``[]`` when the source has no such batch (every source has 5).
    """
    _record("warehouse.extract")
    if batch < 0 or batch >= SOURCE_BATCHES:
        return []
    rows = []
    for k in range(ROWS_PER_BATCH):
        n = batch * ROWS_PER_BATCH + k
        rows.append({
            "id": 1000 + n,
            "customer": f"  Customer-{n % 5} " if k % 2 else f"CUSTOMER-{n % 5}",
            "amount": f"{10 + 3 * batch + k}.{25 * k:02d}",
            "status": "refunded" if (batch + k) % 4 == 3 else "paid",
        })
    return rows


def warehouse_load(table: str, rows: list[dict[str, Any]],
                   idempotency_key: str | None = None) -> dict[str, Any]:
    """Append ``rows`` to ``table``.

    Pass the step's ``ctx.idempotency_key``: a repeated load with the same key is skipped
    and reports ``"duplicate": True``. Returns ``{"table", "loaded", "duplicate"}``.
    """
    _record("warehouse.load")
    with STATE.lock:
        if idempotency_key is not None and any(
                x["idempotency_key"] == idempotency_key for x in STATE.loads):
            return {"table": table, "loaded": len(rows), "duplicate": True}
        STATE.loads.append({"table": table, "rows": len(rows),
                            "idempotency_key": idempotency_key})
    return {"table": table, "loaded": len(rows), "duplicate": False}


# -- shipping ---------------------------------------------------------------------------

#: carrier -> (base price in cents, cents per kg, delivery days)
CARRIERS: dict[str, tuple[int, int, int]] = {
    "parcelpost": (500, 120, 4),
    "swiftship": (900, 80, 2),
    "cargoline": (1500, 40, 5),
}
INTERNATIONAL_SURCHARGE_CENTS = 700


async def shipping_quote(carrier: str, weight_kg: float, destination: str) -> dict[str, Any]:
    """Ask ``carrier`` for a price to ship ``weight_kg`` to ``destination`` (ISO country
    code; "US" is domestic). Carriers: parcelpost, swiftship, cargoline.

    Returns ``{"carrier", "price_cents", "days"}``. Unknown carriers raise ``ValueError``.
    """
    _record("shipping.quote")
    if carrier not in CARRIERS:
        raise ValueError(f"unknown carrier {carrier!r}; known: {sorted(CARRIERS)}")
    base, per_kg, days = CARRIERS[carrier]
    price = base + round(per_kg * float(weight_kg))
    if destination.upper() != "US":
        price += INTERNATIONAL_SURCHARGE_CENTS
        days += 2
    return {"carrier": carrier, "price_cents": price, "days": days}


async def shipping_book(carrier: str, order_id: int | str,
                        idempotency_key: str | None = None) -> dict[str, Any]:
    """Book ``carrier`` for ``order_id``. Returns ``{"booking_id", "carrier", "order_id"}``.

    The booking id is ``"<carrier>-<order_id>"``; booking the same order twice (e.g. a
    retry) returns the existing booking.
    """
    _record("shipping.book")
    booking = {"booking_id": f"{carrier}-{order_id}", "carrier": carrier, "order_id": order_id}
    with STATE.lock:
        if all(b["booking_id"] != booking["booking_id"] for b in STATE.bookings):
            STATE.bookings.append(dict(booking))
    return booking


# -- news feed --------------------------------------------------------------------------


def feed_latest(topic: str, date: str) -> list[dict[str, Any]]:
    """Headlines about ``topic`` for ``date`` (``YYYY-MM-DD``).

    Returns two items ``[{"title", "url"}]`` (none for an empty topic).
    """
    _record("feed.latest")
    if not topic.strip():
        return []
    slug = _slug(topic)
    return [
        {"title": f"{topic}: what changed on {date}", "url": f"https://news.example/{slug}/{date}/1"},
        {"title": f"{topic}: one thing to read ({date})",
         "url": f"https://news.example/{slug}/{date}/2"},
    ]


# -- billing ----------------------------------------------------------------------------

#: Card endings that the fake processor declines (as Stripe's test card 4000 0000 0000 0002).
DECLINED_CARDS = frozenset({"0002"})


def billing_charge(customer: str, amount_cents: int, card_last4: str,
                   idempotency_key: str | None = None) -> dict[str, Any]:
    """Charge ``customer`` ``amount_cents`` on the card ending ``card_last4``.

    Returns ``{"status": "paid", "invoice_id"}`` or ``{"status": "declined", "reason"}``.
    A declined card will stay declined; do not retry it. Repeating a charge with the same
    ``idempotency_key`` returns the first result without charging again.
    """
    _record("billing.charge")
    with STATE.lock:
        if idempotency_key is not None:
            for charge in STATE.charges:
                if charge["idempotency_key"] == idempotency_key:
                    return dict(charge["result"])
        if card_last4 in DECLINED_CARDS:
            result = {"status": "declined", "reason": "card_declined"}
        else:
            result = {"status": "paid", "invoice_id": f"INV-{customer}-{len(STATE.charges) + 1}"}
        STATE.charges.append({"customer": customer, "amount_cents": amount_cents,
                              "card_last4": card_last4, "idempotency_key": idempotency_key,
                              "result": dict(result)})
    return result


def accounts_set_plan(customer: str, plan: str) -> dict[str, Any]:
    """Put ``customer`` on ``plan`` (e.g. "pro" or "free"). Returns ``{"customer", "plan"}``."""
    _record("accounts.set_plan")
    with STATE.lock:
        STATE.plan_changes.append({"customer": customer, "plan": plan})
    return {"customer": customer, "plan": plan}


# -- registration -----------------------------------------------------------------------

#: Tool name (as plans call it, ``tools.<name>``) -> host function.
TOOLS: dict[str, Callable[..., Any]] = {
    "orders.get": orders_get,
    "tickets.open": tickets_open,
    "notify.send": notify_send,
    "search": search,
    "summarize": summarize,
    "flaky.fetch": flaky_fetch,
    "cache.get": cache_get,
    "warehouse.extract": warehouse_extract,
    "warehouse.load": warehouse_load,
    "shipping.quote": shipping_quote,
    "shipping.book": shipping_book,
    "feed.latest": feed_latest,
    "billing.charge": billing_charge,
    "accounts.set_plan": accounts_set_plan,
}


class ToolRegistry(Protocol):
    """Anything with ``register(name, fn)``, such as ``engine.tools``."""

    def register(self, name: str, fn: Callable[..., Any], /) -> Any: ...


def register_gallery_tools(registry: ToolRegistry) -> list[str]:
    """Register every gallery tool on ``registry`` and return their names, sorted."""
    for name, fn in TOOLS.items():
        registry.register(name, fn)
    return sorted(TOOLS)
