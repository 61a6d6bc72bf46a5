"""Pydantic AI adapter: a ``PlanToolkit`` as a ``FunctionToolset``.

::

    from agents_durable.agents.pydantic_ai import plan_toolset

    agent = Agent(model, toolsets=[plan_toolset(toolkit)], instructions=toolkit.instructions())

Needs ``pip install 'agents-durable[pydantic-ai]'``; importing this module without it
raises ``ImportError`` saying so.
"""

from __future__ import annotations

from agents_durable.agents.pydantic_ai._toolset import plan_toolset

__all__ = ["plan_toolset"]
