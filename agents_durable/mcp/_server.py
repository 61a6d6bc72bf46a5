"""The MCP server: one low-level ``mcp.server.Server`` over ``PlanToolkit``.

The server is built on the official SDK's low-level ``Server`` rather than its
decorator-based ``MCPServer`` (FastMCP's successor): the toolkit already has a pydantic
input model, a result model and a description for every function, and the low-level
server takes those schemas as they are instead of re-deriving them from Python
signatures; and it lets every request pick its own toolkit, which is what the HTTP
transport needs (the bearer token of each request decides the agent).

``toolkit_for(ctx)`` returns the toolkit of the agent a request acts for: a constant for
stdio, the token's agent for HTTP. A request it answers ``None`` for is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError

from agents_durable.agents import PlanToolkit
from agents_durable.mcp import _resources, _tools
from agents_durable.mcp._capping import DEFAULT_MAX_RESULT_CHARS

__all__ = ["PROMPT_NAME", "SERVER_NAME", "ToolkitResolver", "build_server", "serve_stdio"]

SERVER_NAME = "agents-durable"
PROMPT_NAME = "instructions"

#: Which toolkit serves a request: the agent it acts for, or ``None`` to refuse it.
ToolkitResolver = Callable[[ServerRequestContext[Any, Any]], PlanToolkit | None]

_INSTRUCTIONS = (
    "Tools to author, run and watch durable plans: small Python modules with "
    "`async def run(event, step)` that the engine runs step by step, across sleeps, events "
    f"and restarts. Before writing a plan, load the prompt {PROMPT_NAME!r}: it teaches the "
    "plan language, with the host tools you may call and example plans. Then check_plan, "
    "submit_plan, start_plan, and follow the instance with plan_status and plan_history. A "
    "result with ok: false says what went wrong and what to do next.")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("agents-durable")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def build_server(toolkit_for: ToolkitResolver, *,
                 max_result_chars: int = DEFAULT_MAX_RESULT_CHARS) -> Server[Any]:
    """An MCP server whose every request acts for the agent ``toolkit_for`` names.

    ``max_result_chars`` caps each tool result and JSON resource (in characters of JSON);
    a cut result says what was cut in its ``truncated`` field.
    """

    def toolkit(ctx: ServerRequestContext[Any, Any]) -> PlanToolkit:
        found = toolkit_for(ctx)
        if found is None:  # the HTTP app refuses such requests before they get here
            raise MCPError(types.INVALID_REQUEST, "no agent: send a valid bearer token")
        return found

    async def list_tools(ctx: ServerRequestContext[Any, Any],
                         params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return _tools.list_tools(toolkit(ctx))

    async def call_tool(ctx: ServerRequestContext[Any, Any],
                        params: types.CallToolRequestParams) -> types.CallToolResult:
        return await _tools.call_tool(toolkit(ctx), params.name, params.arguments,
                                      max_result_chars)

    async def list_resources(ctx: ServerRequestContext[Any, Any],
                             params: types.PaginatedRequestParams | None
                             ) -> types.ListResourcesResult:
        return await _resources.list_resources(toolkit(ctx))

    async def list_templates(ctx: ServerRequestContext[Any, Any],
                             params: types.PaginatedRequestParams | None
                             ) -> types.ListResourceTemplatesResult:
        return _resources.list_resource_templates()

    async def read_resource(ctx: ServerRequestContext[Any, Any],
                            params: types.ReadResourceRequestParams
                            ) -> types.ReadResourceResult:
        return await _resources.read_resource(toolkit(ctx), params.uri, max_result_chars)

    async def list_prompts(ctx: ServerRequestContext[Any, Any],
                           params: types.PaginatedRequestParams | None
                           ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=[types.Prompt(
            name=PROMPT_NAME, title="Plan language",
            description="How to write a durable plan: the plan language, the host tools "
                        "you may call from plans, and example plans.")])

    async def get_prompt(ctx: ServerRequestContext[Any, Any],
                         params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != PROMPT_NAME:
            raise MCPError(types.INVALID_PARAMS,
                           f"There is no prompt {params.name!r}; the prompt is {PROMPT_NAME!r}.")
        text = toolkit(ctx).instructions()
        return types.GetPromptResult(
            description="The plan language, with your tools and example plans",
            messages=[types.PromptMessage(role="user", content=types.TextContent(text=text))])

    return Server(SERVER_NAME, version=_version(), title="agents_durable plans",
                  instructions=_INSTRUCTIONS, on_list_tools=list_tools,
                  on_call_tool=call_tool, on_list_resources=list_resources,
                  on_list_resource_templates=list_templates, on_read_resource=read_resource,
                  on_list_prompts=list_prompts, on_get_prompt=get_prompt)


async def serve_stdio(toolkit: PlanToolkit, *,
                      max_result_chars: int = DEFAULT_MAX_RESULT_CHARS) -> None:
    """Serve ``toolkit`` over this process's stdin and stdout until the client closes stdin.

    The engine behind the toolkit must be open (``async with engine:``) for the duration.
    """
    from mcp.server.stdio import stdio_server

    server = build_server(lambda ctx: toolkit, max_result_chars=max_result_chars)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
