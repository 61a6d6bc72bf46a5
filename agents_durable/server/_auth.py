"""Bearer tokens: who is calling. A token maps to one agent (tenant) or to the operator.

Tokens are random 32-byte secrets shown once when created; the store keeps only their
SHA-256 (a fast hash is right for high-entropy secrets: there is nothing to brute-force),
so a copy of the database grants nothing. ``resolve_principal`` is the one place a token
becomes a :class:`Principal`; the HTTP API, the dashboard and a mounted MCP app all use
it, so they agree on who may see what.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from agents_durable.errors import UsageError
from agents_durable.store import TokenRecord

__all__ = ["Principal", "create_token", "hash_token", "resolve_principal", "revoke_token"]

_PREFIX = "adt_"
ROLES = ("agent", "operator")


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: an agent's token (``agent_id`` set) or the operator (sees every agent)."""

    token_id: str
    role: str
    agent_id: str | None
    label: str = ""

    @property
    def operator(self) -> bool:
        return self.role == "operator"

    def may_act_for(self, agent_id: str) -> bool:
        """Whether this caller may see and act on ``agent_id``'s plans and instances."""
        return self.operator or self.agent_id == agent_id


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def create_token(engine: Any, *, agent_id: str | None, label: str = "") -> tuple[
        str, TokenRecord]:
    """A new token for ``agent_id`` (None: an operator token); returns (secret, record).

    The secret is returned once and never stored.
    """
    if agent_id is not None and (not isinstance(agent_id, str) or not agent_id
                                 or len(agent_id) > 200):
        raise UsageError("agent id must be a non-empty string of at most 200 characters")
    secret = _PREFIX + secrets.token_urlsafe(32)
    token_id = "tok_" + secrets.token_hex(6)
    role = "operator" if agent_id is None else "agent"
    record = await engine.store.put_token(token_id, hash_token(secret), agent_id, role,
                                          label, engine.clock.now())
    return secret, record


async def revoke_token(engine: Any, token_id: str) -> bool:
    """Revoke by token id (``tok_...``); False if no valid token has that id."""
    return bool(await engine.store.revoke_token(token_id, engine.clock.now()))


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


async def resolve_principal(engine: Any, token: str | None) -> Principal | None:
    """The principal a bearer token stands for, or None (missing, unknown or revoked)."""
    if not token or len(token) > 200 or not token.startswith(_PREFIX):
        return None
    record = await engine.store.find_token(hash_token(token))
    if record is None:
        return None
    return Principal(token_id=record.id, role=record.role, agent_id=record.agent_id,
                     label=record.label)
