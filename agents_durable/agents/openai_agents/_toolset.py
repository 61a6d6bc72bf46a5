"""Build OpenAI Agents SDK ``FunctionTool`` objects from a ``PlanToolkit``.

The SDK hands a tool the model's arguments as JSON text and shows the model whatever
the tool returns, converted with ``str()``; a dict would arrive as a Python repr, so each
tool returns its result model as JSON text. Schemas are the toolkit's input models; they
are made strict (the SDK's default) where strict mode can express them, and left
non-strict for the two tools whose ``params``/``payload`` are free-form JSON objects,
which strict mode cannot describe. Malformed arguments come back as an
``invalid_argument`` failure, like every other failure the model can fix; an unexpected
exception takes the SDK's default path (an error message to the model).
"""

from __future__ import annotations

import json
from typing import Any

from agents_durable.agents._framework import missing_framework
from agents_durable.agents._results import ToolFailure
from agents_durable.agents._toolkit import PlanToolkit, ToolkitFunction

try:
    from agents import FunctionTool, RunContextWrapper
    from agents.exceptions import UserError
    from agents.strict_schema import ensure_strict_json_schema
except ImportError as exc:  # pragma: no cover - exercised by a test with the module hidden
    raise ImportError(missing_framework("the OpenAI Agents SDK", "openai-agents")) from exc

__all__ = ["plan_function_tools"]


def _schema(function: ToolkitFunction) -> tuple[dict[str, Any], bool]:
    """The tool's JSON schema, and whether it is strict."""
    schema = function.input_model.model_json_schema()
    try:
        return ensure_strict_json_schema(schema), True
    except UserError:
        # Only free-form objects (dict[str, Any]) end up here.
        return function.input_model.model_json_schema(), False


def _tool(function: ToolkitFunction) -> FunctionTool:
    schema, strict = _schema(function)

    async def invoke(context: RunContextWrapper[Any], arguments: str) -> str:
        try:
            data = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            return ToolFailure(error="invalid_argument",
                               message=f"The arguments of {function.name} must be a JSON "
                                       "object.").model_dump_json()
        result = await function.call(data)
        return result.model_dump_json()

    return FunctionTool(name=function.name, description=function.description,
                        params_json_schema=schema, on_invoke_tool=invoke,
                        strict_json_schema=strict)


def plan_function_tools(toolkit: PlanToolkit) -> list[FunctionTool]:
    """The toolkit's functions as Agents SDK tools, for ``Agent(..., tools=[...])``."""
    return [_tool(function) for function in toolkit.functions()]
