"""Where in the plan an error was raised: the line number and the source line.

A runtime error must point at the plan line that raised it, not at the last step that ran:
the traceback's innermost frame that belongs to the plan's compiled code names it. The plan
source is the one the agent wrote (RestrictedPython keeps line numbers), so the line shown
is the line the agent can edit.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

__all__ = ["locate"]

_MAX_SOURCE = 200


def locate(error: BaseException, plan: Any) -> tuple[int, str] | None:
    """``(line, source line)`` of the innermost plan frame in ``error``'s traceback.

    Follows the explicit cause or context when the error itself was raised by the engine
    (``StepFailed`` re-raised at the ``await``), and returns None when no plan frame is on
    the way (an error of the engine before plan code ran).
    """
    filename = plan.code.co_filename
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        line = _innermost(current.__traceback__, filename)
        if line is not None:
            return line, _source_line(plan.source, line)
        current = current.__cause__ or current.__context__
    return None


def _innermost(traceback: TracebackType | None, filename: str) -> int | None:
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _source_line(source: str, line: int) -> str:
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    text = lines[line - 1].strip()
    return text if len(text) <= _MAX_SOURCE else text[:_MAX_SOURCE - 3] + "..."
