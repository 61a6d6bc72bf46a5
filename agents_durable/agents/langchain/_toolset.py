"""Build LangChain ``StructuredTool`` objects from a ``PlanToolkit``.

Each tool's ``args_schema`` is the toolkit's input model. Tools use LangChain's
``content_and_artifact`` response format: the ``ToolMessage`` content is the result as
JSON text (what the model reads) and its ``artifact`` the same result as a dict (for
application code). Arguments LangChain cannot validate come back through
``handle_validation_error`` as the toolkit's ``invalid_argument`` failure, so the model
sees the same shape for every failure it can fix.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from agents_durable.agents._failures import failure_from_validation
from agents_durable.agents._framework import missing_framework
from agents_durable.agents._toolkit import PlanToolkit, ToolkitFunction

try:
    from langchain_core.tools import StructuredTool
except ImportError as exc:  # pragma: no cover - exercised by a test with the module hidden
    raise ImportError(missing_framework("LangChain", "langchain")) from exc

__all__ = ["plan_structured_tools"]


def _tool(function: ToolkitFunction) -> StructuredTool:
    async def run(**arguments: Any) -> tuple[str, dict[str, Any]]:
        result = await function.call(arguments)
        return result.model_dump_json(), result.model_dump(mode="json")

    def invalid(error: ValidationError) -> str:
        return failure_from_validation(function.name, error).model_dump_json()

    return StructuredTool.from_function(
        coroutine=run, name=function.name, description=function.description,
        args_schema=function.input_model, response_format="content_and_artifact",
        handle_validation_error=invalid)


def plan_structured_tools(toolkit: PlanToolkit) -> list[StructuredTool]:
    """The toolkit's functions as LangChain tools, for ``bind_tools`` and a tool loop."""
    return [_tool(function) for function in toolkit.functions()]
