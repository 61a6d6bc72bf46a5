"""How to run each gallery plan end to end, as data, for tests with a fake clock.

Each entry of :data:`SCENARIOS` is a dict:

``name``
    a short unique id (for pytest ids and instance ids: it matches the instance-id pattern).
``plan``
    the file name in ``plans/``.
``params``
    the instance's params.
``script``
    actions run in order after the instance is created and has settled:

    * ``("advance", duration)``: move the fake clock forward by ``duration`` (a SPEC
      duration string); timers that come due fire in order, and the instance settles
      before the next action.
    * ``("event", type, payload)``: ``send_event(type, payload)`` to the instance, then
      let it settle.
``expected_output``
    after the script the instance is ``complete`` with exactly this output.
``expected_state`` (optional)
    for each key, ``gallery_tools.STATE.snapshot()[key]`` must equal the value.

Call ``gallery_tools.reset()`` before each scenario (``flaky.fetch`` counts calls per key).

The scripts do not depend on the fake clock's start time, and they are robust to how a
harness applies ``advance``: each ``advance`` overshoots the next timer due in it, so the
outcome is the same whether the clock steps from timer to timer or jumps to the end and
then fires what is due. Expected outputs follow from ``gallery_tools`` alone.

:data:`PLAN_TOOLS` lists the tools each plan needs (grant them to the agent), and
:data:`PLAN_FILES` the plan files of the gallery (the other ``.py`` files here are host
code, not plans).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PLAN_FILES", "PLAN_TOOLS", "SCENARIOS"]

#: Plan file -> the tools it calls.
PLAN_TOOLS: dict[str, list[str]] = {
    "order_followup.py": ["orders.get", "tickets.open"],
    "human_approval.py": ["notify.send"],
    "retry_with_backoff.py": ["cache.get", "flaky.fetch"],
    "fan_out.py": ["shipping.book", "shipping.quote"],
    "daily_digest.py": ["feed.latest", "notify.send"],
    "escalation_chain.py": ["notify.send", "tickets.open"],
    "data_pipeline.py": ["warehouse.extract", "warehouse.load"],
    "research_loop.py": ["search", "summarize"],
    "subscription_trial.py": ["accounts.set_plan", "billing.charge", "notify.send"],
}

#: Every plan file in the gallery, sorted.
PLAN_FILES: list[str] = sorted(PLAN_TOOLS)

_APPROVAL = {
    "request_id": "EXP-1042",
    "approver": "dana@acme.test",
    "requester": "lee@acme.test",
    "amount": "240.00 EUR",
    "reason": "conference ticket",
}

_INCIDENT = {
    "incident": "INC-311",
    "summary": "checkout error rate above 5%",
    "chain": ["oncall@acme.test", "lead@acme.test", "director@acme.test"],
}

_TRIAL = {"customer": "acme", "email": "billing@acme.test", "plan": "pro", "price_cents": 1900}

_QUESTION = "How do durable workflows survive restarts?"


def _note(n: int) -> str:
    """What ``summarize`` makes of the snippet of search result ``n`` for _QUESTION."""
    return (f"Source {n} finds that how do durable workflows survive restarts depends "
            f"on ...")


def _answer(notes: list[str]) -> str:
    """What ``summarize(all_notes, 30)`` returns: the first 30 words and " ..."."""
    words = " ".join(notes).split()
    return " ".join(words[:30]) + (" ..." if len(words) > 30 else "")


def _sources(numbers: range) -> list[str]:
    return [f"https://example.org/how-do-durable-workflows-survive-restarts/{n}"
            for n in numbers]


SCENARIOS: list[dict[str, Any]] = [
    # -- order_followup ------------------------------------------------------------------
    {
        "name": "order-followup-confirmed",
        "plan": "order_followup.py",
        "params": {"order_id": 7},
        "script": [
            ("advance", "2 days"),
            ("event", "delivery-confirmed", {"note": "left at the door"}),
            ("advance", "1 second"),
        ],
        "expected_output": {"order": 7, "confirmed": True, "note": "left at the door"},
        "expected_state": {"tickets": []},
    },
    {
        # The customer confirms while the plan still sleeps: the event is buffered.
        "name": "order-followup-early-event",
        "plan": "order_followup.py",
        "params": {"order_id": 8},
        "script": [
            ("event", "delivery-confirmed", {"note": "arrived early"}),
            ("advance", "3 days"),
        ],
        "expected_output": {"order": 8, "confirmed": True, "note": "arrived early"},
        "expected_state": {"tickets": []},
    },
    {
        "name": "order-followup-timeout",
        "plan": "order_followup.py",
        "params": {"order_id": 7},
        "script": [("advance", "3 days"), ("advance", "6 days")],
        "expected_output": {"order": 7, "confirmed": False},
        "expected_state": {
            "tickets": [{"ticket_id": "TICKET-7", "subject": 7, "reason": "no confirmation"}],
        },
    },
    # -- human_approval ------------------------------------------------------------------
    {
        # A decision about another request must not complete this one's wait (match=).
        "name": "human-approval-approved",
        "plan": "human_approval.py",
        "params": _APPROVAL,
        "script": [
            ("event", "approval-decision",
             {"request_id": "EXP-9999", "approved": False, "by": "mallory@acme.test"}),
            ("advance", "1 hour"),
            ("event", "approval-decision",
             {"request_id": "EXP-1042", "approved": True, "by": "dana@acme.test"}),
            ("advance", "1 second"),
        ],
        "expected_output": {"request_id": "EXP-1042", "approved": True,
                            "decided_by": "dana@acme.test", "reminded": False,
                            "timed_out": False},
        "expected_state": {"recipients": ["dana@acme.test", "lee@acme.test"]},
    },
    {
        "name": "human-approval-after-reminder",
        "plan": "human_approval.py",
        "params": _APPROVAL,
        "script": [
            ("advance", "25 hours"),
            ("event", "approval-decision",
             {"request_id": "EXP-1042", "approved": False, "by": "dana@acme.test"}),
            ("advance", "1 second"),
        ],
        "expected_output": {"request_id": "EXP-1042", "approved": False,
                            "decided_by": "dana@acme.test", "reminded": True,
                            "timed_out": False},
        "expected_state": {"recipients": ["dana@acme.test", "dana@acme.test",
                                          "lee@acme.test"]},
    },
    {
        "name": "human-approval-timeout",
        "plan": "human_approval.py",
        "params": _APPROVAL,
        "script": [("advance", "25 hours"), ("advance", "3 days")],
        "expected_output": {"request_id": "EXP-1042", "approved": False, "decided_by": None,
                            "reminded": True, "timed_out": True},
        "expected_state": {"recipients": ["dana@acme.test", "dana@acme.test",
                                          "lee@acme.test"]},
    },
    # -- retry_with_backoff --------------------------------------------------------------
    {
        # Fails twice; retries come after 5 s and 10 s; attempt 3 succeeds.
        "name": "retry-succeeds-on-third-attempt",
        "plan": "retry_with_backoff.py",
        "params": {"key": "exchange-rates", "fail_times": 2},
        "script": [("advance", "1 minute"), ("advance", "1 minute"), ("advance", "1 minute")],
        "expected_output": {"key": "exchange-rates", "source": "live",
                            "value": "fresh exchange-rates", "attempt": 3},
        "expected_state": {"flaky_calls": {"exchange-rates": 3}},
    },
    {
        "name": "retry-first-attempt",
        "plan": "retry_with_backoff.py",
        "params": {"key": "weather", "fail_times": 0},
        "script": [],
        "expected_output": {"key": "weather", "source": "live", "value": "fresh weather",
                            "attempt": 1},
        "expected_state": {"flaky_calls": {"weather": 1}},
    },
    {
        # 1 attempt + 3 retries all fail: StepFailed is caught and the cache is used.
        "name": "retry-exhausted-falls-back",
        "plan": "retry_with_backoff.py",
        "params": {"key": "stock-prices", "fail_times": 10},
        "script": [("advance", "1 minute"), ("advance", "1 minute"), ("advance", "1 minute"),
                   ("advance", "1 minute")],
        "expected_output": {"key": "stock-prices", "source": "cache",
                            "value": "cached stock-prices", "attempt": None},
        "expected_state": {"flaky_calls": {"stock-prices": 4}},
    },
    # -- fan_out -------------------------------------------------------------------------
    {
        "name": "fan-out-international",
        "plan": "fan_out.py",
        "params": {"order_id": 501, "weight_kg": 2.5, "destination": "DE"},
        "script": [("advance", "1 second")],
        "expected_output": {
            "order": 501, "carrier": "parcelpost", "price_cents": 1500,
            "booking": "parcelpost-501",
            "quotes": {"parcelpost": 1500, "swiftship": 1800, "cargoline": 2300},
        },
        "expected_state": {"bookings": [{"booking_id": "parcelpost-501",
                                         "carrier": "parcelpost", "order_id": 501}]},
    },
    {
        "name": "fan-out-heavy-domestic",
        "plan": "fan_out.py",
        "params": {"order_id": 502, "weight_kg": 20, "destination": "US"},
        "script": [("advance", "1 second")],
        "expected_output": {
            "order": 502, "carrier": "cargoline", "price_cents": 2300,
            "booking": "cargoline-502",
            "quotes": {"parcelpost": 2900, "swiftship": 2500, "cargoline": 2300},
        },
        "expected_state": {"bookings": [{"booking_id": "cargoline-502",
                                         "carrier": "cargoline", "order_id": 502}]},
    },
    # -- daily_digest --------------------------------------------------------------------
    {
        # The first digest is due within 24 hours, the third within 3 days.
        "name": "daily-digest-three-days",
        "plan": "daily_digest.py",
        "params": {"topic": "durable execution", "to": "ana@example.com", "days": 3},
        "script": [("advance", "1 day"), ("advance", "1 day"), ("advance", "1 day"),
                   ("advance", "1 hour")],
        "expected_output": {"topic": "durable execution", "digests_sent": 3, "headlines": 6},
        "expected_state": {"recipients": ["ana@example.com"] * 3},
    },
    {
        # Absolute wake-up times: one long jump still sends every digest.
        "name": "daily-digest-catch-up",
        "plan": "daily_digest.py",
        "params": {"topic": "queues", "to": "ana@example.com", "days": 2},
        "script": [("advance", "5 days")],
        "expected_output": {"topic": "queues", "digests_sent": 2, "headlines": 4},
        "expected_state": {"recipients": ["ana@example.com"] * 2},
    },
    # -- escalation_chain ----------------------------------------------------------------
    {
        # Level 1 times out after 15 minutes; level 2 acknowledges. The ack for another
        # incident, sent first, must be ignored.
        "name": "escalation-acknowledged-at-level-2",
        "plan": "escalation_chain.py",
        "params": _INCIDENT,
        "script": [
            ("event", "incident-acknowledged", {"incident": "INC-999", "by": "x@acme.test"}),
            ("advance", "16 minutes"),
            ("event", "incident-acknowledged",
             {"incident": "INC-311", "by": "lead@acme.test"}),
            ("advance", "1 second"),
        ],
        "expected_output": {"incident": "INC-311", "acknowledged": True, "level": 2,
                            "by": "lead@acme.test"},
        "expected_state": {"recipients": ["oncall@acme.test", "lead@acme.test"],
                           "tickets": []},
    },
    {
        "name": "escalation-nobody-answers",
        "plan": "escalation_chain.py",
        "params": _INCIDENT,
        "script": [("advance", "16 minutes"), ("advance", "31 minutes"),
                   ("advance", "61 minutes")],
        "expected_output": {"incident": "INC-311", "acknowledged": False, "level": None,
                            "by": None, "ticket": "TICKET-INC-311"},
        "expected_state": {
            "recipients": ["oncall@acme.test", "lead@acme.test", "director@acme.test"],
            "tickets": [{"ticket_id": "TICKET-INC-311", "subject": "INC-311",
                         "reason": "nobody in the chain acknowledged: "
                                   "checkout error rate above 5%"}],
        },
    },
    # -- data_pipeline -------------------------------------------------------------------
    {
        "name": "data-pipeline-three-batches",
        "plan": "data_pipeline.py",
        "params": {"source": "shop.orders", "table": "analytics.orders", "batches": 3},
        "script": [("advance", "1 second")],
        "expected_output": {"source": "shop.orders", "table": "analytics.orders",
                            "batches": 3, "rows_loaded": 9, "rows_skipped": 3,
                            "revenue": "132.00"},
        "expected_state": {"loaded_rows": [3, 3, 3]},
    },
    {
        # The source holds 5 batches; the plan stops at the first empty one.
        "name": "data-pipeline-source-runs-out",
        "plan": "data_pipeline.py",
        "params": {"source": "shop.orders", "table": "analytics.orders", "batches": 10},
        "script": [("advance", "1 second")],
        "expected_output": {"source": "shop.orders", "table": "analytics.orders",
                            "batches": 5, "rows_loaded": 15, "rows_skipped": 5,
                            "revenue": "266.25"},
        "expected_state": {"loaded_rows": [3, 3, 3, 3, 3]},
    },
    # -- research_loop -------------------------------------------------------------------
    {
        # Page 1 gives sources 1-3, page 2 gives 3-5 (3 already read): 5 notes, stop.
        "name": "research-enough-notes",
        "plan": "research_loop.py",
        "params": {"question": _QUESTION, "min_notes": 5, "max_rounds": 4},
        "script": [("advance", "1 second")],
        "expected_output": {
            "question": _QUESTION, "rounds": 2, "enough": True,
            "notes": [_note(n) for n in range(1, 6)],
            "sources": _sources(range(1, 6)),
            "answer": _answer([_note(n) for n in range(1, 6)]),
        },
        "expected_state": {"searches": [{"query": _QUESTION, "page": 1},
                                        {"query": _QUESTION, "page": 2}]},
    },
    {
        # Wants more notes than 3 rounds can give: stops at the bound.
        "name": "research-bounded",
        "plan": "research_loop.py",
        "params": {"question": _QUESTION, "min_notes": 50, "max_rounds": 3},
        "script": [("advance", "1 second")],
        "expected_output": {
            "question": _QUESTION, "rounds": 3, "enough": False,
            "notes": [_note(n) for n in range(1, 8)],
            "sources": _sources(range(1, 8)),
            "answer": _answer([_note(n) for n in range(1, 8)]),
        },
        "expected_state": {"searches": [{"query": _QUESTION, "page": p} for p in (1, 2, 3)]},
    },
    # -- subscription_trial --------------------------------------------------------------
    {
        "name": "trial-converts",
        "plan": "subscription_trial.py",
        "params": _TRIAL,
        "script": [
            ("advance", "3 days"),
            ("event", "payment-method-added", {"card_last4": "4242"}),
            ("advance", "12 days"),
        ],
        "expected_output": {"customer": "acme", "plan": "pro", "charged_cents": 1900,
                            "reminded": False},
        "expected_state": {"charge_statuses": ["paid"],
                           "plan_changes": [{"customer": "acme", "plan": "pro"}],
                           "recipients": ["billing@acme.test"] * 2},
    },
    {
        # Card added after the reminder but declined: one attempt only (NonRetryableError).
        "name": "trial-card-declined",
        "plan": "subscription_trial.py",
        "params": _TRIAL,
        "script": [
            ("advance", "12 days"),
            ("event", "payment-method-added", {"card_last4": "0002"}),
            ("advance", "3 days"),
        ],
        "expected_output": {"customer": "acme", "plan": "free", "charged_cents": 0,
                            "reminded": True},
        "expected_state": {"charge_statuses": ["declined"],
                           "plan_changes": [{"customer": "acme", "plan": "free"}],
                           "recipients": ["billing@acme.test"] * 3},
    },
    {
        "name": "trial-no-card",
        "plan": "subscription_trial.py",
        "params": _TRIAL,
        "script": [("advance", "12 days"), ("advance", "4 days")],
        "expected_output": {"customer": "acme", "plan": "free", "charged_cents": 0,
                            "reminded": True},
        "expected_state": {"charge_statuses": [],
                           "plan_changes": [{"customer": "acme", "plan": "free"}],
                           "recipients": ["billing@acme.test"] * 3},
    },
]
