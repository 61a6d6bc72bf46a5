"""The HTTP server behind ``agents-durable serve``: JSON API, dashboard, metrics.

Needs the ``server`` extra (``pip install 'agents-durable[server]'``: Starlette, uvicorn,
prometheus-client); ``import agents_durable`` never imports it, and this package loads
its parts on first use (so the CLI can describe ``serve`` without the extra). Build the
ASGI app with :func:`create_app` over an open engine; mount more apps (an MCP server)
beside it and map their bearer tokens with :func:`resolve_principal`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents_durable.server._app import create_app
    from agents_durable.server._auth import (
        Principal,
        create_token,
        hash_token,
        resolve_principal,
        revoke_token,
    )
    from agents_durable.server._http import ERROR_CODES, ApiError
    from agents_durable.server._logs import JsonFormatter, configure_json_logs
    from agents_durable.server._metrics import Metrics

__all__ = [
    "ERROR_CODES",
    "ApiError",
    "JsonFormatter",
    "Metrics",
    "Principal",
    "configure_json_logs",
    "create_app",
    "create_token",
    "hash_token",
    "resolve_principal",
    "revoke_token",
]

_HOMES = {
    "create_app": "_app", "Principal": "_auth", "create_token": "_auth",
    "hash_token": "_auth", "resolve_principal": "_auth", "revoke_token": "_auth",
    "ERROR_CODES": "_http", "ApiError": "_http", "JsonFormatter": "_logs",
    "configure_json_logs": "_logs", "Metrics": "_metrics",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agents_durable.server' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"agents_durable.server.{home}"), name)
    globals()[name] = value
    return value
