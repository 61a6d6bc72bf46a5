"""Simple: greet a new user by first name."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Send a welcome email to a user who just signed up.

1. Fetch the user with `users.get(user_id)`.
2. Send one email with `email.send(to, subject, body, idempotency_key)` to the user's
   `email`. The subject is exactly "Welcome, <first name>!" where the first name is the
   first word of `full_name` (for "Ada King Lovelace" that is "Ada"). The body must mention
   the user's plan name (`plan`).

Params (`event.payload`): {"user_id": 42}.
No events arrive.

Return: {"user_id": int, "email": str, "subject": str (the subject you sent)}.
"""

PARAMS = {"user_id": 42}
SCENARIO: list[tuple[Any, ...]] = []


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[])

    async def users_get(user_id: int) -> dict:
        """Fetch a user account.

        Returns {"id": int, "email": str, "full_name": str, "plan": str}.
        """
        rec.call("users.get", user_id)
        return {"id": user_id, "email": "ada@example.com", "full_name": "Ada King Lovelace",
                "plan": "Team"}

    def email_send(to: str, subject: str, body: str, idempotency_key: str = "") -> dict:
        """Send an email once per idempotency key. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.once("emails", idempotency_key, {"to": to, "subject": subject, "body": body})
        return {"message_id": rec.next_id("M")}

    return {"users.get": users_get, "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"user_id": 42, "email": "ada@example.com",
                      "subject": "Welcome, Ada!"}, output
    assert len(state["emails"]) == 1, state["emails"]
    mail = state["emails"][0]
    assert mail["to"] == "ada@example.com" and mail["subject"] == "Welcome, Ada!", mail
    assert "Team" in mail["body"], mail["body"]
