"""OpenAI Agents SDK adapter: a ``PlanToolkit`` as a list of ``FunctionTool``.

::

    from agents_durable.agents.openai_agents import plan_function_tools

    agent = Agent(name="planner", instructions=toolkit.instructions(),
                  tools=plan_function_tools(toolkit))

Needs ``pip install 'agents-durable[openai-agents]'``; importing this module without it
raises ``ImportError`` saying so.
"""

from __future__ import annotations

from agents_durable.agents.openai_agents._toolset import plan_function_tools

__all__ = ["plan_function_tools"]
