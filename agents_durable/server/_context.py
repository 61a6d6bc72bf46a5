"""What every request handler needs: the engine, the settings, and who is calling."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from agents_durable.server._auth import Principal, bearer, resolve_principal
from agents_durable.server._http import (
    ApiError,
    RateLimiter,
    error_response,
    retry_after,
    translate,
)
from agents_durable.server._logs import log_context

__all__ = ["Settings", "api_handler", "authenticate", "scope_for", "settings_of"]

logger = logging.getLogger("agents_durable.server")

SESSION_COOKIE = "ad_session"


@dataclass
class Settings:
    """The server's knobs (see ``create_app``)."""

    engine: Any
    max_body_bytes: int = 2 * 1024 * 1024
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    csrf_secret: bytes = b""
    stream_poll: float = 0.5
    metrics: Any = None


def settings_of(request: Request) -> Settings:
    return request.app.state.agents_durable  # type: ignore[no-any-return]


async def authenticate(request: Request, *, cookie: bool = False) -> Principal:
    """The caller of ``request`` (bearer header; the dashboard's session cookie if
    ``cookie``), rate-limited per token. ``ApiError`` when there is none or too many."""
    settings = settings_of(request)
    token = bearer(request.headers.get("authorization"))
    if token is None and cookie:
        token = request.cookies.get(SESSION_COOKIE)
    principal = await resolve_principal(settings.engine, token)
    if principal is None:
        raise ApiError("unauthorized", "send a valid token as 'Authorization: Bearer <token>'"
                       " (create one with: agents-durable token create)")
    wait = settings.rate_limiter.take(principal.token_id)
    if wait > 0:
        raise ApiError("rate_limited", f"rate limit of this token reached; retry in "
                       f"{wait:.2f} s", retry_after=retry_after(wait))
    request.state.principal = principal
    return principal


def scope_for(request: Request, principal: Principal, agent_id: str) -> Any:
    """The engine's API for ``agent_id``, if ``principal`` may act for it. Any other
    agent answers ``not_found`` whether or not it exists, so nothing leaks."""
    if not principal.may_act_for(agent_id):
        raise ApiError("not_found", f"no agent {agent_id[:100]!r} for this token")
    return settings_of(request).engine.scope(agent_id)


Handler = Callable[[Request], Awaitable[Response]]


def api_handler(fn: Handler) -> Handler:
    """Error translation and log context for one API endpoint."""

    @functools.wraps(fn)
    async def handle(request: Request) -> Response:
        agent = request.path_params.get("agent")
        instance = request.path_params.get("id")
        with log_context(agent=agent, instance=instance):
            try:
                return await fn(request)
            except Exception as error:
                api = translate(error)
                if api is None:
                    logger.exception("%s %s failed", request.method, request.url.path)
                    api = ApiError("internal_error", f"unexpected {type(error).__name__}; "
                                   "the server log has the details")
                headers = {}
                if api.code == "rate_limited":
                    headers["Retry-After"] = str(api.extra.pop("retry_after", "1"))
                return error_response(api, headers)

    return handle
