"""Build a Pydantic AI ``FunctionToolset`` from a ``PlanToolkit``.

Each toolkit function becomes a ``Tool`` whose one parameter is the function's pydantic
input model. Pydantic AI flattens a single model-typed parameter into the tool's
argument schema and validates the model's arguments with it, so malformed arguments
take Pydantic AI's usual path (a retry prompt to the model). Results are the toolkit's
pydantic result models, which Pydantic AI serializes for the model as JSON; failures the
model can fix (a rejected plan, an unknown instance) are results with ``ok: false``.
"""

from __future__ import annotations

from typing import Any

from agents_durable.agents._framework import missing_framework
from agents_durable.agents._results import ToolResult
from agents_durable.agents._toolkit import PlanToolkit, ToolkitFunction

try:
    from pydantic import BaseModel
    from pydantic_ai import Tool
    from pydantic_ai.toolsets import FunctionToolset
except ImportError as exc:  # pragma: no cover - exercised by a test with the module hidden
    raise ImportError(missing_framework("Pydantic AI", "pydantic-ai")) from exc

__all__ = ["plan_toolset"]


def _tool(function: ToolkitFunction) -> Tool[Any]:
    async def run(args: BaseModel) -> ToolResult:
        return await function.call(args.model_dump())

    # The annotations are what Pydantic AI reads the schema from; they must be the
    # function's own input model, which differs per tool, so they are set here.
    run.__annotations__ = {"args": function.input_model, "return": ToolResult}
    run.__name__ = run.__qualname__ = function.name
    return Tool(run, takes_ctx=False, name=function.name, description=function.description)


def plan_toolset(toolkit: PlanToolkit) -> FunctionToolset[Any]:
    """The toolkit's functions as a Pydantic AI toolset: ``Agent(..., toolsets=[...])``."""
    return FunctionToolset([_tool(function) for function in toolkit.functions()])
