"""The toolkit's functions as MCP tools: schemas from its pydantic models, results as data.

Each tool's ``inputSchema`` is its toolkit input model's JSON schema and its
``outputSchema`` the union of the function's result model and :class:`ToolFailure`, as
the toolkit method's return annotation declares it. A call returns the result both as
``structuredContent`` and as JSON text (clients differ in which one they show a model).
A failure the model can fix (a rejected plan with its diagnostics, an unknown instance, a
malformed argument) is an ordinary result with ``isError: true``, never a protocol error,
so the model reads it and tries again.
"""

from __future__ import annotations

import json
import typing
from functools import cache
from typing import Any

import mcp_types as types
from pydantic import BaseModel, Field, TypeAdapter, create_model

from agents_durable.agents import PlanToolkit, ToolFailure, ToolkitFunction
from agents_durable.mcp._capping import cap_result

__all__ = ["call_tool", "list_tools"]

_TRUNCATED = ("Present only when the result was cut to keep it small: says what was cut. "
              "Read the instance's history resource, or ask for less, to see the rest.")


@cache
def _success_model(name: str) -> type[BaseModel]:
    """The result model of toolkit method ``name`` (its return annotation minus ToolFailure)."""
    hint = typing.get_type_hints(getattr(PlanToolkit, name))["return"]
    models = [arg for arg in typing.get_args(hint) if arg is not ToolFailure]
    if len(models) != 1:
        raise TypeError(f"PlanToolkit.{name} must return exactly one result model or a "
                        f"ToolFailure, not {hint}")
    model: type[BaseModel] = models[0]
    return model


@cache
def _output_schema(name: str) -> dict[str, Any]:
    # The MCP surface adds one field to every result: the note cap_result writes.
    success, failure = (
        create_model(model.__name__, __base__=model, __doc__=model.__doc__,
                     truncated=(str | None, Field(default=None, description=_TRUNCATED)))
        for model in (_success_model(name), ToolFailure))
    either: Any = success | failure
    schema = TypeAdapter(either).json_schema(mode="serialization")
    return {"type": "object", **schema}


def _tool(function: ToolkitFunction) -> types.Tool:
    return types.Tool(name=function.name, description=function.description,
                      input_schema=function.input_model.model_json_schema(),
                      output_schema=_output_schema(function.name),
                      annotations=types.ToolAnnotations(
                          read_only_hint=function.name in _READ_ONLY,
                          destructive_hint=False, open_world_hint=False))


_READ_ONLY = frozenset({"check_plan", "plan_status", "plan_history", "list_plans",
                        "list_instances"})


def list_tools(toolkit: PlanToolkit) -> types.ListToolsResult:
    """Every toolkit function as an MCP tool, in the toolkit's order."""
    return types.ListToolsResult(tools=[_tool(f) for f in toolkit.functions()])


async def call_tool(toolkit: PlanToolkit, name: str, arguments: dict[str, Any] | None,
                    max_chars: int) -> types.CallToolResult:
    """Run toolkit function ``name``; every outcome is a result, failures with isError."""
    result = await toolkit.call(name, arguments or {})
    data = result.model_dump(mode="json")
    data, note = cap_result(data, max_chars)
    if note is not None:
        data["truncated"] = note
    failed = isinstance(result, ToolFailure)
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(data, ensure_ascii=False))],
        structured_content=data, is_error=failed)
