"""The MCP server over streamable HTTP, as an ASGI app where the bearer token picks the agent.

:func:`mcp_http_app` wraps the SDK's ``StreamableHTTPSessionManager`` in stateless mode:
every HTTP request is served on its own, so it carries its own ``Authorization: Bearer``
token and acts for that token's agent only; nothing a request does depends on an earlier
one, and the app scales across processes. A request without a token, or with one the
resolver does not know, gets ``401`` before any MCP message is read.

Standalone (``uvicorn`` on the app) the ASGI lifespan starts and stops the session
manager. Mounted inside another app, whose lifespan Starlette does not pass down to
mounts, enter :meth:`McpHttpApp.lifespan` from the outer app's lifespan.
"""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from agents_durable.agents import PlanToolkit
from agents_durable.engine import Engine
from agents_durable.mcp._capping import DEFAULT_MAX_RESULT_CHARS
from agents_durable.mcp._server import build_server

__all__ = ["AgentResolver", "McpHttpApp", "mcp_http_app"]

#: ``token -> agent id`` (or ``None`` for a token that is not valid); may be async.
AgentResolver = Callable[[str], "str | Awaitable[str | None] | None"]

#: The ASGI scope key under which the app passes the request's agent to the MCP handlers.
_AGENT = "agents_durable.agent_id"


class McpHttpApp:
    """The ASGI app :func:`mcp_http_app` returns; ``lifespan()`` runs it when mounted."""

    def __init__(self, engine: Engine, resolve_agent: AgentResolver,
                 tools: Collection[str] | Callable[[str], Collection[str]],
                 max_result_chars: int,
                 transport_security: TransportSecuritySettings | None) -> None:
        self._engine = engine
        self._resolve_agent = resolve_agent
        self._tools = tools
        self._toolkits: dict[str, PlanToolkit] = {}
        server = build_server(self._toolkit_of_request, max_result_chars=max_result_chars)
        self._manager = StreamableHTTPSessionManager(
            app=server, stateless=True, json_response=True,
            security_settings=transport_security)
        self._running = False

    def _toolkit(self, agent_id: str) -> PlanToolkit:
        toolkit = self._toolkits.get(agent_id)
        if toolkit is None:
            tools = self._tools(agent_id) if callable(self._tools) else self._tools
            toolkit = self._toolkits[agent_id] = PlanToolkit(self._engine, agent_id,
                                                             tools=tools)
        return toolkit

    def _toolkit_of_request(self, ctx: ServerRequestContext[Any, Any]) -> PlanToolkit | None:
        request = ctx.request
        scope = getattr(request, "scope", None)
        agent_id = scope.get(_AGENT) if isinstance(scope, dict) else None
        return self._toolkit(agent_id) if isinstance(agent_id, str) else None

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the app's session manager: enter it once, for as long as the app serves."""
        async with self._manager.run():
            self._running = True
            try:
                yield
            finally:
                self._running = False

    async def _agent_of(self, scope: Scope) -> str | None:
        header = next((value for key, value in scope.get("headers", ())
                       if key == b"authorization"), b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        agent = self._resolve_agent(token.strip())
        if inspect.isawaitable(agent):
            agent = await agent
        return agent if isinstance(agent, str) and agent else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._serve_lifespan(receive, send)
            return
        if scope["type"] != "http":  # a websocket: MCP does not use them
            await send({"type": "websocket.close", "code": 1003})
            return
        if not self._running:
            await _answer(send, 503, "unavailable", "the MCP app is not started: run it with "
                          "its ASGI lifespan, or enter McpHttpApp.lifespan() in the app that "
                          "mounts it")
            return
        agent = await self._agent_of(scope)
        if agent is None:
            await _answer(send, 401, "unauthorized",
                          "send Authorization: Bearer <token> with a valid agent token",
                          [(b"www-authenticate", b'Bearer realm="agents-durable"')])
            return
        await self._manager.handle_request({**scope, _AGENT: agent}, receive, send)

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":  # pragma: no cover - ASGI servers start first
            return
        try:
            async with self.lifespan():
                await send({"type": "lifespan.startup.complete"})
                message = await receive()  # lifespan.shutdown
        except Exception as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})


async def _answer(send: Send, status: int, error: str, message: str,
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": error, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def mcp_http_app(engine: Engine, resolve_agent: AgentResolver, *,
                 tools: Collection[str] | Callable[[str], Collection[str]] = (),
                 max_result_chars: int = DEFAULT_MAX_RESULT_CHARS,
                 transport_security: TransportSecuritySettings | None = None) -> McpHttpApp:
    """The MCP server over streamable HTTP for every agent ``resolve_agent`` knows a token of.

    ``resolve_agent(token)`` returns the agent id a bearer token acts for, or ``None``
    (the request is refused with 401); it may be async. ``tools`` are the host tools granted
    to every agent, or a function ``agent_id -> tools``; the first request of an agent
    grants them as ``engine.agent(agent_id, tools=...)`` does, which replaces that agent's
    grants in the engine, so pass the same grants the host gives the agent elsewhere. The
    engine must stay open while the app serves. Mount it where clients should connect,
    e.g. at ``/mcp``.
    """
    return McpHttpApp(engine, resolve_agent, tools, max_result_chars, transport_security)
