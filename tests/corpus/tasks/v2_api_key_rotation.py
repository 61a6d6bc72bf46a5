"""Simple: create a new API key, store it, then revoke the old one (in that order)."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Rotate the API key of one service.

1. Look up the key in use with `keys.current(service)` -> {"key_id": str, "created":
   "YYYY-MM-DD"}.
2. Create a new key with `keys.create(service, idempotency_key)` -> {"key_id": str,
   "secret": str}.
3. Store the new secret with `vault.put(path, secret, idempotency_key)` -> {"version":
   int}, at the path "services/<service>/api-key".
4. Only once the new secret is stored, revoke the old key with `keys.revoke(key_id)`
   (exactly once).

The secret must not appear in the output.

Params (`event.payload`): {"service": "billing-api"}.
No events arrive.

Return: {"service": str, "old_key_id": str, "new_key_id": str, "vault_version": int}.
"""

PARAMS = {"service": "billing-api"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(created=[], stored=[], revoked=[], order=[])

    def keys_current(service: str) -> dict:
        """The key a service uses now: {"key_id": str, "created": "YYYY-MM-DD"}."""
        rec.call("keys.current", service)
        return {"key_id": "key-2025-03", "created": "2025-03-14"}

    def keys_create(service: str, idempotency_key: str = "") -> dict:
        """Create a new API key for a service. Returns {"key_id": str, "secret": str}."""
        rec.call("keys.create", service)
        rec.once("created", idempotency_key, service)
        return {"key_id": "key-2026-01", "secret": "sk_live_7f3a9c"}

    def vault_put(path: str, secret: str, idempotency_key: str = "") -> dict:
        """Store a secret at a path. Returns {"version": int}."""
        rec.call("vault.put", path)
        if rec.once("stored", idempotency_key, {"path": path, "secret": secret}):
            rec.add("order", "stored")
        return {"version": 7}

    def keys_revoke(key_id: str) -> dict:
        """Revoke an API key at once. Returns {"revoked": True}."""
        rec.call("keys.revoke", key_id)
        rec.add("revoked", key_id)
        rec.add("order", "revoked")
        return {"revoked": True}

    return {"keys.current": keys_current, "keys.create": keys_create,
            "vault.put": vault_put, "keys.revoke": keys_revoke}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"service": "billing-api", "old_key_id": "key-2025-03",
                      "new_key_id": "key-2026-01", "vault_version": 7}, output
    assert state["created"] == ["billing-api"], state["created"]
    assert state["stored"] == [{"path": "services/billing-api/api-key",
                                "secret": "sk_live_7f3a9c"}], state["stored"]
    assert state["revoked"] == ["key-2025-03"], state["revoked"]
    assert state["order"] == ["stored", "revoked"], state["order"]
