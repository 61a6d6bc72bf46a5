"""Medium: batches of 5 with a one-minute pause between batches."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Send a newsletter without tripping the email provider's rate limit.

1. Get the recipients with `audience.list(segment)`: a list of email addresses.
2. Send to them in batches of 5, in list order, with
   `email.send_batch(recipients, subject, idempotency_key)` (recipients: a list of up to
   5 addresses). Wait 1 minute between two batches (not before the first, not after the
   last). Every address must receive the newsletter exactly once.

Params (`event.payload`): {"segment": "beta-testers", "subject": "What's new in January"}.
No events arrive.

Return: {"segment": str, "sent": int (addresses sent to), "batches": int}.
"""

PARAMS = {"segment": "beta-testers", "subject": "What's new in January"}
RECIPIENTS = [f"user{n:02d}@example.com" for n in range(1, 24)]


def _batches(count: int) -> Any:
    def probe(state: dict[str, Any]) -> None:
        assert len(state["batches"]) == count, (count, state["batches"])
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("probe", _batches(1)), ("advance", "30 seconds"), ("probe", _batches(1)),
    ("advance", "40 seconds"), ("probe", _batches(2)),
    ("advance", "10 minutes"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(batches=[])

    def audience_list(segment: str) -> list:
        """Email addresses in a marketing segment: a list of str."""
        rec.call("audience.list", segment)
        return list(RECIPIENTS)

    def email_send_batch(recipients: list, subject: str, idempotency_key: str = "") -> dict:
        """Send one email to each of up to 5 recipients. Returns {"accepted": int}.

        Raises ValueError for more than 5 recipients (the provider's rate limit).
        """
        rec.call("email.send_batch", len(recipients))
        if len(recipients) > 5:
            raise ValueError("at most 5 recipients per call")
        rec.once("batches", idempotency_key, list(recipients))
        return {"accepted": len(recipients)}

    return {"audience.list": audience_list, "email.send_batch": email_send_batch}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"segment": "beta-testers", "sent": 23, "batches": 5}, output
    assert state["batches"] == [RECIPIENTS[i:i + 5] for i in range(0, 23, 5)], state
