"""Diagnostics: what validation says about a plan, with stable codes.

Codes never change meaning once released; agents and tests rely on them. Messages are
deterministic (no addresses, no set ordering) and end with what to do instead.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from agents_durable._rich import RichModel

__all__ = ["CODES", "Diagnostic", "Severity"]

Severity = Literal["error", "warning"]

#: Every diagnostic code with a one-line summary. Grouped by hundreds:
#: 1xx shape of the module, 2xx imports and names, 3xx forbidden constructs,
#: 4xx the step and tool API, 5xx limits of the source itself.
CODES: dict[str, str] = {
    "ADP100": "syntax error",
    "ADP101": "the plan does not define `run`",
    "ADP102": "`run` is not an `async def`",
    "ADP103": "`run` does not take exactly the parameters (event, step)",
    "ADP104": "top-level statement other than a docstring, import, def or constant assignment",
    "ADP201": "import of a module outside the allow-list",
    "ADP202": "import of a name the module facade does not offer",
    "ADP203": "call or use of a forbidden builtin",
    "ADP204": "getattr/setattr/delattr/hasattr with a non-literal or private attribute name",
    "ADP205": "`type` called with three arguments (creates a class)",
    "ADP206": "a name that starts with an underscore",
    "ADP207": "an attribute that starts with an underscore",
    "ADP208": "a wall-clock read outside a step (datetime.now/today/utcnow)",
    "ADP301": "class definition",
    "ADP302": "`yield` (generators are not allowed)",
    "ADP303": "`global` statement (`nonlocal` is allowed)",
    "ADP304": "bare `except:` or catching BaseException, GeneratorExit, SystemExit or "
              "KeyboardInterrupt",
    "ADP305": "`except*` (exception groups)",
    "ADP306": "`async for`, `async with` or an async comprehension",
    "ADP307": "`await` outside an async function",
    "ADP308": "an f-string format spec that is computed or too wide",
    "ADP309": "a construct the restricted compiler refuses",
    "ADP310": "`with` statement (context managers are not available to plans)",
    "ADP311": "a construct not supported in plans (a decorator other than `@step.do`, a "
              "`type` alias, type parameters)",
    "ADP312": "`return`, `break` or `continue` inside a `finally` block (PEP 765)",
    "ADP313": "a `match` pattern plans cannot use (a class pattern on a non-builtin type "
              "or with keyword sub-patterns, a dotted value or key)",
    "ADP401": "a `step.*` call (or step function call) that is never awaited",
    "ADP402": "unknown `step` method",
    "ADP403": "a literal duration that cannot be parsed (unknown unit or bad number)",
    "ADP404": "a literal step name that is empty, too long, or has control characters",
    "ADP405": "bad literal `retries`/`timeout` options for step.do",
    "ADP406": "a tool that is not granted to this agent",
    "ADP407": "a tool called outside a step callback (in `run` or a helper it calls)",
    "ADP408": "a step call with missing or extra arguments",
    "ADP409": "a step made inside a step callback or step function (steps cannot nest)",
    "ADP410": "a step function (`@step.do`) awaited or gathered without calling it",
    "ADP411": "warning: a step function (`@step.do`) that is never called",
    "ADP412": "warning: a step callback that uses a loop variable rebound before it runs",
    "ADP413": "warning: a step function parameter the engine cannot fill",
    "ADP414": "warning: steps made while iterating a set (order differs between processes)",
    "ADP415": "`step.run_plan` names a plan this agent has not submitted",
    "ADP501": "the source is too large, too deeply nested or has too many nodes",
}


class Diagnostic(RichModel, BaseModel):
    """One finding about a plan: where it is, what is wrong, how to fix it."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity = "error"
    line: int
    column: int
    message: str
    hint: str = ""

    def format(self) -> str:
        """``line 3, column 5: ADP201 ... (hint)`` on one line, for logs and exceptions."""
        hint = f" Fix: {self.hint}" if self.hint else ""
        return f"line {self.line}, column {self.column}: {self.code} {self.message}{hint}"

    def __str__(self) -> str:
        return self.format()

