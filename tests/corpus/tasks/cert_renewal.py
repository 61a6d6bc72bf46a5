"""Medium: ISO dates with Z, a 30-day window, renewals with retries and a failure path."""

from __future__ import annotations

from typing import Any

from agents_durable import NonRetryableError
from tests.corpus.tasks._kit import Recorder

TASK = """\
Renew TLS certificates that are about to expire.

1. List certificates with `certs.list()`: a list of {"domain": str, "expires": str}
   where expires is ISO-8601 UTC with a "Z" suffix, e.g. "2026-01-20T00:00:00Z".
2. A certificate is due when it expires within 30 days of the moment this run starts
   (expires <= start + 30 days). Others are skipped.
3. Renew each due certificate with `certs.renew(domain, idempotency_key)`. Renewal may
   fail transiently: retry it up to 2 times, 1 minute apart. If it still fails (or
   fails permanently), open a ticket with `tickets.open(domain, reason)` and go on with
   the next certificate.

Params (`event.payload`): {} (nothing needed).
No events arrive.

Return: {"renewed": [domain, ...] (sorted), "failed": [domain, ...] (sorted),
"skipped": int}.
"""

PARAMS: dict[str, Any] = {}
SCENARIO: list[tuple[Any, ...]] = [("advance", "2 minutes"), ("advance", "10 minutes")]
CERTS = [
    {"domain": "shop.example.com", "expires": "2026-01-20T00:00:00Z"},
    {"domain": "api.example.com", "expires": "2026-03-01T12:00:00Z"},
    {"domain": "old.example.com", "expires": "2025-12-30T00:00:00Z"},
    {"domain": "cdn.example.com", "expires": "2026-01-31T00:00:00Z"},
    {"domain": "mail.example.com", "expires": "2026-01-31T00:00:01Z"},
    {"domain": "legacy.example.com", "expires": "2026-01-05T08:00:00Z"},
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(renewals=[], tickets=[])

    def certs_list() -> list:
        """All managed certificates: a list of {"domain": str, "expires": str (ISO, Z)}."""
        rec.call("certs.list")
        return [dict(c) for c in CERTS]

    def certs_renew(domain: str, idempotency_key: str = "") -> dict:
        """Renew a certificate for 90 days. Returns {"domain": str, "expires": str}.

        Raises ConnectionError when the CA is briefly unreachable, and a non-retryable
        error when the CA refuses the domain.
        """
        n = rec.call("certs.renew", domain)
        if domain == "legacy.example.com":
            raise NonRetryableError("CA refused: domain validation failed")
        if domain == "cdn.example.com" and n == 1:
            raise ConnectionError("CA unreachable")
        rec.once("renewals", idempotency_key, domain)
        return {"domain": domain, "expires": "2026-04-01T00:00:00Z"}

    def tickets_open(subject: str, reason: str) -> dict:
        """Open an ops ticket. Returns {"ticket_id": str}."""
        rec.call("tickets.open", subject)
        rec.add("tickets", subject)
        return {"ticket_id": rec.next_id("OPS")}

    return {"certs.list": certs_list, "certs.renew": certs_renew,
            "tickets.open": tickets_open}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"renewed": ["cdn.example.com", "old.example.com", "shop.example.com"],
                      "failed": ["legacy.example.com"], "skipped": 2}, output
    assert sorted(state["renewals"]) == output["renewed"], state["renewals"]
    assert state["tickets"] == ["legacy.example.com"], state["tickets"]
