"""``create_app``: the ASGI app of ``agents-durable serve``, composable with other apps.

The app is a client of an engine the caller opened (a worker or not): it holds no state
of its own beyond rate-limit buckets and metrics, so several servers can front one
PostgreSQL database. Other ASGI apps (an MCP streamable-HTTP app at ``/mcp``) are mounted
with ``mounts=``; they reuse ``resolve_principal`` to map the same bearer tokens to
agents.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from agents_durable.server._api import api_routes
from agents_durable.server._api_evolve import evolve_routes
from agents_durable.server._context import Settings, api_handler, authenticate, settings_of
from agents_durable.server._dashboard import dashboard_routes
from agents_durable.server._http import ApiError, RateLimiter, error_response
from agents_durable.server._metrics import CONTENT_TYPE_LATEST, Metrics, otel_tracer

__all__ = ["create_app"]

_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class _SecurityHeaders:
    """Adds the headers every answer needs (no sniffing, no framing, the CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"same-origin"),
                            (b"content-security-policy", _CSP.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _readyz(request: Request) -> Response:
    """Ready when the store answers a query."""
    try:
        await settings_of(request).engine.store.list_tokens()
    except Exception as error:
        return JSONResponse({"ok": False, "error": f"{type(error).__name__}: {error}"[:300]},
                            status_code=503)
    return JSONResponse({"ok": True})


@api_handler
async def _metrics(request: Request) -> Response:
    principal = await authenticate(request)
    if not principal.operator:
        raise ApiError("forbidden", "metrics cover every agent: use an operator token")
    settings = settings_of(request)
    return Response(await settings.metrics.render(settings.engine),
                    media_type=CONTENT_TYPE_LATEST)


async def _not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/ui"):
        return PlainTextResponse("not found", status_code=404)
    return error_response(ApiError("not_found", f"no route {request.url.path[:200]!r}"))


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return error_response(ApiError("method_not_allowed",
                                   f"{request.method} is not allowed on this route"))


def create_app(engine: Any, *, mounts: Mapping[str, ASGIApp] | None = None,
               max_body_bytes: int = 2 * 1024 * 1024, rate_limit: float = 50.0,
               rate_burst: int = 200, tracing: bool = False,
               csrf_secret: bytes | None = None, stream_poll: float = 0.5) -> Starlette:
    """The HTTP API (``/v1``), dashboard (``/ui``), ``/metrics``, ``/healthz``, ``/readyz``.

    ``engine`` is open (``async with``) for as long as the app serves. ``mounts`` maps a
    path (``"/mcp"``) to another ASGI app. ``max_body_bytes`` caps request bodies;
    ``rate_limit`` and ``rate_burst`` make each token's bucket (requests a second, burst).
    ``tracing=True`` emits OpenTelemetry spans (``otel`` extra) to the global provider.
    The app installs its metrics observer on the engine.
    """
    metrics = Metrics(tracer=otel_tracer() if tracing else None)
    engine.observer = metrics
    routes: list[BaseRoute] = [
        Route("/", lambda request: RedirectResponse("/ui/", status_code=303)),
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/readyz", _readyz, methods=["GET"]),
        Route("/metrics", _metrics, methods=["GET"]),
        *api_routes(before_control=evolve_routes()),
        *dashboard_routes(),
    ]
    for path, app in (mounts or {}).items():
        routes.append(Mount(path, app=app))
    application = Starlette(routes=routes, middleware=[Middleware(_SecurityHeaders)],
                            exception_handlers={404: _not_found, 405: _not_allowed})
    application.state.agents_durable = Settings(
        engine=engine, max_body_bytes=max_body_bytes,
        rate_limiter=RateLimiter(rate=rate_limit, burst=rate_burst),
        csrf_secret=csrf_secret or secrets.token_bytes(32), stream_poll=stream_poll,
        metrics=metrics)
    return application
