"""Hard: per-contractor helpers waiting until dates computed from a deadline."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Collect contractors' tax forms before the filing deadline. Handle the contractors in
parallel; for each contractor:

1. Check with `forms.status(contractor_id, tax_year)` -> "on_file" | "missing". On file:
   nothing more to do.
2. Missing: email a request once with `email.send(to, subject, body,
   idempotency_key)`. Wait for the event "form-submitted", payload {"contractor_id":
   str, "tax_year": int}, for this contractor and this tax year, until 7 days before
   `deadline`.
3. Not submitted by then: email one reminder and keep waiting until `deadline`.
4. Still not submitted at the deadline: hold their payments once with
   `payments.hold(contractor_id, reason, idempotency_key)`.

Params (`event.payload`): {"tax_year": 2025, "deadline": "2026-01-31T17:00:00+00:00",
"contractors": [{"id": str, "email": str}, ...]}.

Return: {"tax_year": int, "on_file": [id, ...], "collected": [id, ...] (submitted after
the request), "held": [id, ...], "reminded": [id, ...]} (every list in input order).
"""

PARAMS = {"tax_year": 2025, "deadline": "2026-01-31T17:00:00+00:00",
          "contractors": [{"id": "k1", "email": "k1@free.example"},
                          {"id": "k2", "email": "k2@free.example"},
                          {"id": "k3", "email": "k3@free.example"},
                          {"id": "k4", "email": "k4@free.example"}]}


def _submitted(contractor: str, year: int) -> tuple[Any, ...]:
    return ("event", "form-submitted", {"contractor_id": contractor, "tax_year": year})


def _state(emails: int, held: list[str]) -> Any:
    def probe(state: dict[str, Any]) -> None:
        assert len(state["emails"]) == emails, state["emails"]
        assert state["holds"] == held, state["holds"]
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "2 days"), _submitted("k3", 2024),
    ("advance", "1 day"), _submitted("k2", 2025),
    ("advance", "20 days"), ("probe", _state(3, [])),
    ("advance", "18 hours"), ("probe", _state(5, [])),
    ("advance", "3 days"), _submitted("k3", 2025),
    ("advance", "3 days"), ("probe", _state(5, [])),
    ("advance", "1 day"), ("probe", _state(5, ["k4"])),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], holds=[])

    async def forms_status(contractor_id: str, tax_year: int) -> str:
        """Whether a contractor's tax form for a year is "on_file" or "missing"."""
        rec.call("forms.status", contractor_id, tax_year)
        return "on_file" if contractor_id == "k1" else "missing"

    def email_send(to: str, subject: str, body: str, idempotency_key: str = "") -> dict:
        """Send an email once per idempotency key. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.once("emails", idempotency_key, to)
        return {"message_id": rec.next_id("M")}

    def payments_hold(contractor_id: str, reason: str, idempotency_key: str = "") -> dict:
        """Hold a contractor's payments until released. Returns {"ok": True}."""
        rec.call("payments.hold", contractor_id)
        rec.once("holds", idempotency_key, contractor_id)
        return {"ok": True}

    return {"forms.status": forms_status, "email.send": email_send,
            "payments.hold": payments_hold}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"tax_year": 2025, "on_file": ["k1"], "collected": ["k2", "k3"],
                      "held": ["k4"], "reminded": ["k3", "k4"]}, output
    assert sorted(state["emails"]) == ["k2@free.example", "k3@free.example",
                                       "k3@free.example", "k4@free.example",
                                       "k4@free.example"], state["emails"]
    assert state["holds"] == ["k4"], state["holds"]
