"""The MCP server: any MCP-speaking agent can author, run and watch its durable plans.

Over stdio for one agent (``agents-durable mcp --agent A``), or over streamable HTTP
where each request's bearer token decides the agent::

    from agents_durable.mcp import mcp_http_app, serve_stdio

    await serve_stdio(PlanToolkit(engine, "support-bot", tools=[...]))
    app = mcp_http_app(engine, {"secret-token": "support-bot"}.get)   # an ASGI app

Tools are the ``PlanToolkit`` functions (schemas from its pydantic models, failures as
results with ``isError``), resources are each plan's source and outline and each
instance's status and history, and the prompt ``instructions`` is the plan language.

Needs ``pip install 'agents-durable[mcp]'`` (the official ``mcp`` SDK); importing this
package without it raises ``ImportError`` saying so. The package is named for what it
serves; inside it the SDK is imported absolutely, so it never shadows ``mcp``.
"""

from __future__ import annotations

try:
    import mcp.server  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a test with the SDK hidden
    raise ImportError("the MCP SDK (package 'mcp') is not installed, and agents_durable's "
                      "MCP server needs it. Install it with: pip install "
                      "'agents-durable[mcp]'") from exc

from agents_durable.mcp._capping import DEFAULT_MAX_RESULT_CHARS, cap_result
from agents_durable.mcp._http import AgentResolver, McpHttpApp, mcp_http_app
from agents_durable.mcp._resources import PREFIX as RESOURCE_PREFIX
from agents_durable.mcp._server import PROMPT_NAME, ToolkitResolver, build_server, serve_stdio

__all__ = [
    "DEFAULT_MAX_RESULT_CHARS",
    "PROMPT_NAME",
    "RESOURCE_PREFIX",
    "AgentResolver",
    "McpHttpApp",
    "ToolkitResolver",
    "build_server",
    "cap_result",
    "mcp_http_app",
    "serve_stdio",
]
