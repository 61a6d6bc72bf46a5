"""Simple: send a reset link, revoke the token if unused within an hour."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Run a password reset.

1. Create a reset token with `auth.create_reset_token(user_id)`; it returns
   {"token": str, "link": str}.
2. Email the link with `email.send(to, subject, body)` to the `email` param.
3. Wait up to 1 hour for an event of type "password-changed" with payload
   {"user_id": int}.
4. If it does not arrive in time, revoke the token with `auth.revoke_token(token)`.

Params (`event.payload`): {"user_id": 314, "email": "pat@example.com"}.

Return: {"user_id": int, "changed": bool, "revoked": bool}.
"""

PARAMS = {"user_id": 314, "email": "pat@example.com"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "30 minutes"), ("expect_status", "waiting"),
                                   ("advance", "45 minutes")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[], revoked=[], tokens=[])

    def auth_create_reset_token(user_id: int) -> dict:
        """Create a one-time password reset token. Returns {"token": str, "link": str}."""
        rec.call("auth.create_reset_token", user_id)
        token = rec.next_id("tok")
        rec.add("tokens", token)
        return {"token": token, "link": f"https://auth.example/reset/{token}"}

    def auth_revoke_token(token: str) -> dict:
        """Revoke a reset token. Returns {"revoked": True}."""
        rec.call("auth.revoke_token", token)
        rec.add("revoked", token)
        return {"revoked": True}

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", {"to": to, "subject": subject, "body": body})
        return {"message_id": rec.next_id("M")}

    return {"auth.create_reset_token": auth_create_reset_token,
            "auth.revoke_token": auth_revoke_token, "email.send": email_send}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"user_id": 314, "changed": False, "revoked": True}, output
    assert state["tokens"] == ["tok-1"], state["tokens"]
    assert state["revoked"] == ["tok-1"], state["revoked"]
    assert len(state["emails"]) == 1 and "https://auth.example/reset/tok-1" in \
        state["emails"][0]["body"], state["emails"]
