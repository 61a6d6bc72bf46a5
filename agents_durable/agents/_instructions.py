"""The system prompt that teaches an agent the plan language, rendered with jinja2.

The template lives in ``templates/instructions.md.j2``. Everything that could drift from
the code is computed, not written into the template: step defaults come from the engine,
allowed imports from the agent's policy, limits from the policy and the engine, the tools
from the agent's grants with their signatures and docstrings.

The example plans are gallery plans (``plans/`` at the repository root, which is not
installed) shipped inside the package as ``templates/examples/<name>.py.j2``. The ``.j2``
suffix is only there so the package data rule ships them: they are read verbatim and
passed to the template as text, never rendered, and a test keeps them byte-identical to
the gallery.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2

from agents_durable.engine._activation import DEFAULT_RETRIES, DEFAULT_TIMEOUT
from agents_durable.engine._facades import Step
from agents_durable.plans._policy import REPLACEMENTS

if TYPE_CHECKING:
    from agents_durable.engine import AgentScope, Engine, ToolSpec

__all__ = ["EXAMPLE_PLANS", "example_plan_source", "render_instructions"]

#: Gallery plans shown as examples, by file stem, in the order the prompt shows them.
EXAMPLE_PLANS: tuple[str, ...] = ("order_followup", "human_approval", "retry_with_backoff")

_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def example_plan_source(name: str) -> str:
    """The source text of shipped example plan ``name`` (a stem from ``EXAMPLE_PLANS``)."""
    if name not in EXAMPLE_PLANS:
        raise KeyError(f"no example plan named {name!r}; known: {', '.join(EXAMPLE_PLANS)}")
    path = resources.files("agents_durable.agents") / "templates" / "examples" / f"{name}.py.j2"
    return path.read_bytes().decode("utf-8")


def _duration_text(seconds: float) -> str:
    """``600.0`` -> ``"10 minutes"``: the largest unit that divides the duration evenly."""
    for unit, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"


def _environment() -> jinja2.Environment:
    # Markdown for a model, not HTML: nothing to escape. StrictUndefined turns a
    # misspelled variable into an error instead of a silently empty section.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("agents_durable.agents", "templates"),
        autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)


def _step_defaults() -> dict[str, Any]:
    event_timeout = inspect.signature(Step.wait_for_event).parameters["timeout"].default
    delay = DEFAULT_RETRIES["delay"]
    assert isinstance(delay, float)
    return {"limit": DEFAULT_RETRIES["limit"],
            "delay": _duration_text(delay),
            "backoff": DEFAULT_RETRIES["backoff"],
            "timeout": _duration_text(DEFAULT_TIMEOUT),
            "event_timeout": event_timeout}


def _limits(engine: Engine, scope: AgentScope) -> dict[str, str]:
    policy, limits = scope.policy, engine.limits
    return {
        "steps": f"{limits.max_steps:,} steps per instance",
        "payload": f"{limits.max_payload_bytes:,} bytes of JSON for params and each event "
                   "payload",
        "result": f"{limits.max_result_bytes:,} bytes of JSON for each step result",
        "sleep": f"{_duration_text(limits.max_sleep_seconds)} for one sleep or wait",
        "fuel": f"{policy.fuel:,} operations (loop iterations, calls, items built) per "
                "activation",
        "tool_calls": f"{policy.max_tool_calls:,} tool calls per activation",
        "sizes": f"strings and containers of at most {policy.max_string_length:,} "
                 f"characters or items; recursion depth {policy.max_depth}",
        "cpu": f"{policy.max_slice_seconds:g} seconds of computation between two awaits",
        "source": f"{policy.max_source_bytes:,} bytes of plan source",
    }


def _signature(tool: ToolSpec) -> str:
    """The tool's signature with annotations evaluated.

    ``ToolSpec.signature`` keeps string annotations quoted (``(name: 'str')``) when the
    host module uses ``from __future__ import annotations``; a model should read types.
    """
    try:
        return str(inspect.signature(tool.fn, eval_str=True))
    except Exception:  # unresolvable annotations: show what the registry recorded
        return tool.signature


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def render_instructions(engine: Engine, scope: AgentScope,
                        functions: Mapping[str, str]) -> str:
    """Render the prompt for ``scope``: the plan language, its tools, limits and examples.

    ``functions``: the toolkit's function names and their descriptions, in order."""
    tools = [engine.tools.get(name) for name in sorted(scope.tools)]
    context = {
        "functions": [{"name": name, "summary": _first_line(description)}
                      for name, description in functions.items()],
        "defaults": _step_defaults(),
        "modules": [{"name": name, "names": sorted(names)}
                    for name, names in sorted(scope.policy.modules.items())],
        "replacements": sorted(REPLACEMENTS.items()),
        "tools": [{"name": t.name, "signature": _signature(t),
                   "description": inspect.cleandoc(t.description)} for t in tools],
        "limits": _limits(engine, scope),
        "examples": [{"name": name, "source": example_plan_source(name).rstrip("\n")}
                     for name in EXAMPLE_PLANS],
    }
    text = _environment().get_template("instructions.md.j2").render(context)
    return text.rstrip() + "\n"
