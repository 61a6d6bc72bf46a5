"""Plain-text views: what ``str(model)`` and the CLI print.

Text is shown exactly as it is (no escaping): these go to terminals and logs, where
control characters in untrusted strings are replaced instead, so a step name or a
printed line cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from agents_durable.display._formatting import (
    format_duration,
    format_json,
    format_time,
    shorten,
)

if TYPE_CHECKING:
    from agents_durable.engine._models import (
        AuditEntry,
        ErrorInfo,
        History,
        InstanceStatus,
        PlanVersion,
        StepEntry,
    )
    from agents_durable.plans import Diagnostic

__all__ = [
    "audit_text",
    "diagnostics_text",
    "error_text",
    "history_text",
    "instance_status_text",
    "plan_version_text",
    "safe_text",
    "step_text",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """``text`` with terminal control characters (ESC, BEL, ...) shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def plan_version_text(version: PlanVersion) -> str:
    """``plan 'name' v2 (hash 1a2b3c4d5e6f) of agent 'a'``, its description and outline."""
    lines = [f"plan {version.name!r} v{version.version} (hash {version.hash[:12]}) of agent "
             f"{version.agent_id!r}, registered {format_time(version.created)}"]
    if version.description:
        lines.append("  " + version.description.splitlines()[0])
    for entry in version.outline:
        lines.append(f"  line {entry.line:>3}  step.{entry.kind}({entry.label!r})")
    return safe_text("\n".join(lines))


def diagnostics_text(diagnostics: Sequence[Diagnostic], path: str = "") -> str:
    """One line per diagnostic, ``path:line:column: CODE message Fix: hint``."""
    prefix = f"{path}:" if path else "line "
    lines = []
    for d in diagnostics:
        where = f"{prefix}{d.line}:{d.column}:" if path else f"{prefix}{d.line}:{d.column}"
        fix = f" Fix: {d.hint}" if d.hint else ""
        lines.append(f"{where} {d.code} {d.severity}: {d.message}{fix}")
    return safe_text("\n".join(lines))


def step_text(step: StepEntry) -> str:
    """``#2 wait_for_event 'customer reply' done (1 day)``, plus attempts for ``do``."""
    took = ""
    if step.started is not None and step.ended is not None:
        took = format_duration((step.ended - step.started).total_seconds())
    occurrence = f" #{step.occurrence}" if step.occurrence > 1 else ""
    parts = [f"#{step.seq} {step.kind} {step.name!r}{occurrence} {step.state}"]
    if step.kind == "do":
        parts.append(f"{step.attempts} attempt{'s' if step.attempts != 1 else ''}")
    if took:
        parts.append(took)
    if step.state in ("waiting", "retrying") and step.wake_at is not None:
        parts.append(f"until {format_time(step.wake_at)}")
    text = " · ".join(parts)
    if step.corrupt:
        text += f"\n      corrupt record: {shorten(step.corrupt, 300)}"
    if step.error:
        text += f"\n      error: {shorten(format_json(step.error, indent=None), 300)}"
        line = step.error.get("line")
        if isinstance(line, int) and not isinstance(line, bool):
            source = step.error.get("source")
            text += f"\n      line {line}" + (f": {str(source).strip()}"
                                             if isinstance(source, str) else "")
    elif step.result is not None:
        text += f"\n      result: {shorten(format_json(step.result, indent=None), 300)}"
    return safe_text(text)


def error_text(error: ErrorInfo) -> str:
    """``error in step 'x': Name: message``, then ``line 12: total = sum(x)`` if known."""
    where = f" in step {error.step!r}" if error.step else ""
    text = f"error{where}: {error.name}: {error.message}"
    if error.where:
        text += f"\n    {error.where}"
    return safe_text(text)


def audit_text(entry: AuditEntry) -> str:
    """``2026-01-03 00:00:05 UTC #4 restart from step 'charge' #1 (was complete)``."""
    what = entry.action
    if entry.action == "restart":
        step = entry.from_step
        if step is None:
            what += " from the top"
        else:
            occurrence = step.get("occurrence")
            what += f" from step {step.get('name')!r}" + (
                f" #{occurrence}" if isinstance(occurrence, int) else "")
    notes = [f"was {entry.was}"] if entry.was else []
    if entry.deferred:
        notes.append("applied when the running step ended")
    text = f"{format_time(entry.at)} #{entry.seq} {what}" + (
        f" ({', '.join(notes)})" if notes else "")
    if entry.corrupt:
        text += f" [corrupt record: {shorten(entry.corrupt, 200)}]"
    return safe_text(text)


def instance_status_text(status: InstanceStatus, *, steps: bool = True) -> str:
    """The status line, then output or error, then one line per step."""
    lines = [f"instance {status.id!r}: {status.status} (plan {status.plan!r} v{status.version}"
             f", created {format_time(status.created)}, updated {format_time(status.updated)})"]
    if status.wake_at is not None and status.status == "waiting":
        lines.append(f"  wakes at {format_time(status.wake_at)}")
    if status.corrupt is not None and (status.error is None
                                       or status.error.message != status.corrupt):
        lines.append(f"  corrupt record: {status.corrupt}")
    if status.error is not None:
        lines.append("  " + error_text(status.error))
    elif status.status == "complete":
        lines.append(f"  output: {shorten(format_json(status.output, indent=None), 2000)}")
    if steps:
        lines += ["  " + step_text(step) for step in status.steps]
    return safe_text("\n".join(lines))


def history_text(history: History) -> str:
    """Status, every step (with failed attempts), events and printed lines."""
    lines = [instance_status_text(history.status, steps=False), "  steps:"]
    for step in history.steps:
        lines.append("    " + step_text(step))
        for attempt in step.attempt_log:
            if attempt.get("error"):
                lines.append(f"      attempt {attempt.get('attempt')} failed: "
                             f"{shorten(str(attempt['error']), 300)}")
    if not history.steps:
        lines.append("    (none yet)")
    if history.discarded_steps:
        lines.append("  discarded by restarts (kept for the record, never replayed):")
        for step in history.discarded_steps:
            lines.append(f"    [restart #{step.discarded_by}] " + step_text(step))
    if history.events:
        lines.append("  events:")
        for event in history.events:
            taken = (f"taken by step #{event.consumed_by_step}"
                     if event.consumed_by_step is not None else "buffered")
            lines.append(f"    {format_time(event.timestamp)} {event.type!r} {taken}: "
                         f"{shorten(format_json(event.payload, indent=None), 300)}")
            if event.corrupt:
                lines.append(f"      corrupt record: {shorten(event.corrupt, 300)}")
    if history.logs:
        lines.append("  printed:")
        lines += [f"    {format_time(log.at)}  {log.line}"
                  + (f"  [corrupt record: {log.corrupt}]" if log.corrupt else "")
                  for log in history.logs]
    if history.audit:
        lines.append("  audit (operator actions):")
        lines += ["    " + audit_text(entry) for entry in history.audit]
    return safe_text("\n".join(lines))
