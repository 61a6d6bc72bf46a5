"""The agent framework hook: tools and a prompt that let an AI agent author durable plans.

``PlanToolkit(engine, agent_id, tools=[...])`` gives one agent async functions to check,
submit, start, inspect and signal its own plans, with pydantic inputs and results and
failures returned as data; ``toolkit.instructions()`` renders the system prompt that
teaches the plan language with that agent's tools and example plans.

Framework adapters live in subpackages and are imported only when asked for, so this
package never imports a framework::

    from agents_durable.agents.pydantic_ai import plan_toolset             # Pydantic AI
    from agents_durable.agents.openai_agents import plan_function_tools    # OpenAI Agents
    from agents_durable.agents.langchain import plan_structured_tools      # LangChain

Each adapter's function is named for the native type it returns, so two adapters can be
imported into one module without one name hiding the other.
"""

from __future__ import annotations

from agents_durable.agents._inputs import (
    CheckPlanInput,
    ListInstancesInput,
    ListPlansInput,
    PlanHistoryInput,
    PlanStatusInput,
    SendPlanEventInput,
    StartPlanInput,
    SubmitPlanInput,
    UpgradeInstancesInput,
)
from agents_durable.agents._instructions import EXAMPLE_PLANS, example_plan_source
from agents_durable.agents._results import (
    AttemptView,
    ErrorCode,
    EventSent,
    EventView,
    InstanceHistory,
    InstanceListing,
    InstanceSummary,
    InstanceView,
    JournalStep,
    LogView,
    PlanChecked,
    PlanListing,
    PlanSubmitted,
    PlanSummary,
    StepView,
    ToolFailure,
    ToolResult,
    UpgradeRefusal,
    UpgradesDone,
)
from agents_durable.agents._toolkit import PlanToolkit, ToolkitFunction

__all__ = [
    "EXAMPLE_PLANS",
    "AttemptView",
    "CheckPlanInput",
    "ErrorCode",
    "EventSent",
    "EventView",
    "InstanceHistory",
    "InstanceListing",
    "InstanceSummary",
    "InstanceView",
    "JournalStep",
    "ListInstancesInput",
    "ListPlansInput",
    "LogView",
    "PlanChecked",
    "PlanHistoryInput",
    "PlanListing",
    "PlanStatusInput",
    "PlanSubmitted",
    "PlanSummary",
    "PlanToolkit",
    "SendPlanEventInput",
    "StartPlanInput",
    "StepView",
    "SubmitPlanInput",
    "ToolFailure",
    "ToolResult",
    "ToolkitFunction",
    "UpgradeInstancesInput",
    "UpgradeRefusal",
    "UpgradesDone",
    "example_plan_source",
]
