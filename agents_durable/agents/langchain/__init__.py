"""LangChain adapter: a ``PlanToolkit`` as a list of ``StructuredTool``.

::

    from agents_durable.agents.langchain import plan_structured_tools

    model = chat_model.bind_tools(plan_structured_tools(toolkit))

The tools are async only: run them with ``ainvoke``. Needs
``pip install 'agents-durable[langchain]'``; importing this module without it raises
``ImportError`` saying so.
"""

from __future__ import annotations

from agents_durable.agents.langchain._toolset import plan_structured_tools

__all__ = ["plan_structured_tools"]
