"""The layout of an instance's timeline: where every step, retry, sleep and event goes.

This module only computes geometry (plain dataclasses); ``templates/timeline.svg.j2``
draws it. Keeping the two apart keeps the template free of arithmetic and lets tests
check the layout itself.

Why the time axis is not linear: one instance may run three attempts within fifteen
seconds and then sleep for two days. On a linear axis the attempts collapse into one
pixel. The axis here is piecewise linear over the distinct instants the journal
records, and each gap between two consecutive instants gets a width that grows with the
logarithm of its length. Every gap is labelled with its real duration, so the reader
never has to guess the scale.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents_durable.display._formatting import (
    format_duration,
    format_json,
    format_time,
    shorten,
)

if TYPE_CHECKING:
    from agents_durable.engine._models import EventEntry, History, StepEntry

__all__ = ["Bar", "Connector", "Marker", "Row", "Tick", "Timeline", "layout_timeline"]

LABEL_WIDTH = 230
OUTCOME_WIDTH = 240
OUTCOME_GAP = 26  # room for a zero-length mark drawn at the last instant
PLOT_MIN_WIDTH = 520
ROW_HEIGHT = 28
TOP = 58  # legend and gap labels above the first row
BOTTOM = 44  # axis labels below the last row
MIN_MARK = 8.0  # width of a zero-length attempt, so it stays visible
CHAR_WIDTH = 6.6  # average width of one character at the 11 px font the SVG uses

COLORS = {
    "ok": "#2e7d32",
    "ok_fill": "#a5d6a7",
    "fail": "#c62828",
    "fail_fill": "#ef9a9a",
    "sleep": "#1565c0",
    "sleep_fill": "#bbdefb",
    "wait": "#6a1b9a",
    "wait_fill": "#e1bee7",
    "timeout": "#e65100",
    "muted": "#616161",
    "grid": "#e0e0e0",
    "text": "#212121",
}


@dataclass
class Bar:
    """A rectangle on a row: an attempt, a sleep, a wait. ``dashed`` means still pending."""

    x: float
    width: float
    fill: str
    stroke: str
    title: str
    dashed: bool = False
    height: float = 14.0


@dataclass
class Marker:
    """A point on a row: ``shape`` is ``diamond``, ``circle``, ``cross`` or ``tick``."""

    x: float
    shape: str
    color: str
    title: str
    filled: bool = True
    label: str = ""


@dataclass
class Connector:
    """A line between two points, e.g. a retry's backoff or an event to its consumer."""

    x1: float
    y1: float
    x2: float
    y2: float
    color: str
    dash: str = "4 3"
    title: str = ""


@dataclass
class Row:
    """One row of the timeline: a step (or the events and prints rows) and its shapes."""

    y: float
    kind: str
    label: str
    full_label: str
    outcome: str
    outcome_color: str
    bars: list[Bar] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    lines: list[Connector] = field(default_factory=list)

    @property
    def middle(self) -> float:
        return self.y + ROW_HEIGHT / 2


@dataclass
class Tick:
    """An instant on the time axis, with its elapsed-time label if there was room."""

    x: float
    label: str
    title: str


@dataclass
class Timeline:
    """Everything ``timeline.svg.j2`` draws, in pixels."""

    width: float
    height: float
    plot_left: float
    plot_right: float
    axis_y: float
    rows: list[Row]
    ticks: list[Tick]
    gaps: list[tuple[float, str]]  # (centre x, duration label) above the rows
    connectors: list[Connector]
    start_label: str
    colors: dict[str, str]
    empty: bool


def _epoch(value: dt.datetime | float | None) -> float | None:
    if value is None:
        return None
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


class _Scale:
    """Maps epoch seconds to x, over the distinct instants given (see the module doc)."""

    def __init__(self, instants: list[float], left: float, min_width: float) -> None:
        self.points = sorted(set(instants))
        gaps = [14.0 + 22.0 * math.log10(1.0 + b - a)
                for a, b in zip(self.points, self.points[1:], strict=False)]
        natural = sum(gaps)
        width = max(min_width, 12.0 * len(gaps))
        factor = width / natural if natural else 0.0
        self.xs = [left]
        for gap in gaps:
            self.xs.append(self.xs[-1] + gap * factor)
        self.left = left
        self.right = left + (width if gaps else min_width)

    def __call__(self, value: float | None) -> float:
        if value is None or not self.points:
            return self.left
        if value <= self.points[0]:
            return self.xs[0]
        if value >= self.points[-1]:
            return self.xs[-1]
        # Instants outside ``points`` (none are expected) interpolate linearly.
        for i in range(1, len(self.points)):
            if value <= self.points[i]:
                a, b = self.points[i - 1], self.points[i]
                return self.xs[i - 1] + (self.xs[i] - self.xs[i - 1]) * (value - a) / (b - a)
        return self.xs[-1]


def _instants(history: History) -> list[float]:
    status = history.status
    found: list[float | None] = [_epoch(status.created)]
    for step in history.steps:
        found += [_epoch(step.started), _epoch(step.ended)]
        if step.state in ("waiting", "retrying") or step.kind in ("sleep", "sleep_until"):
            found.append(_epoch(step.wake_at))
        for attempt in step.attempt_log:
            found += [attempt.get("started"), attempt.get("ended")]
    found += [_epoch(event.timestamp) for event in history.events]
    found += [_epoch(log.at) for log in history.logs]
    if status.finished:
        found.append(_epoch(status.updated))
    return [value for value in found if value is not None]


def _step_label(step: StepEntry) -> str:
    occurrence = f" #{step.occurrence}" if step.occurrence > 1 else ""
    return f"{step.name}{occurrence}"


def _do_row(row: Row, step: StepEntry, x: _Scale) -> None:
    attempts = step.attempt_log or [{"attempt": step.attempts or 1,
                                     "started": _epoch(step.started),
                                     "ended": _epoch(step.ended),
                                     **({"error": format_json(step.error, indent=None)}
                                        if step.error else {})}]
    previous_end: float | None = None
    for attempt in attempts:
        start = x(attempt.get("started"))
        end = x(attempt.get("ended") if attempt.get("ended") is not None
                else attempt.get("started"))
        failed = "error" in attempt
        if previous_end is not None:
            row.lines.append(Connector(previous_end, row.middle, start, row.middle,
                                       COLORS["fail"], title="waiting to retry"))
        took = format_duration((attempt.get("ended") or 0) - (attempt.get("started") or 0)
                               if attempt.get("ended") is not None else None)
        what = f"error: {attempt['error']}" if failed else "succeeded"
        row.bars.append(Bar(start, max(MIN_MARK, end - start),
                            COLORS["fail_fill"] if failed else COLORS["ok_fill"],
                            COLORS["fail"] if failed else COLORS["ok"],
                            f"attempt {attempt.get('attempt', '?')} "
                            f"({took or 'running'}): {what}"))
        previous_end = max(end, start + MIN_MARK)
    if step.state == "retrying" and step.wake_at is not None and previous_end is not None:
        wake = x(_epoch(step.wake_at))
        row.lines.append(Connector(previous_end, row.middle, wake, row.middle,
                                   COLORS["fail"], title="waiting to retry"))
        row.markers.append(Marker(wake, "circle", COLORS["fail"],
                                  f"next attempt at {format_time(step.wake_at)}",
                                  filled=False))


def _span_row(row: Row, step: StepEntry, x: _Scale, stroke: str, fill: str) -> None:
    start = x(_epoch(step.started))
    pending = step.state == "waiting"
    end_time = step.wake_at if pending or step.ended is None else step.ended
    end = x(_epoch(end_time))
    row.bars.append(Bar(start, max(MIN_MARK, end - start), fill, stroke, row.outcome,
                        dashed=pending))
    if step.kind == "wait_for_event" and step.state == "done":
        row.markers.append(Marker(max(end, start + MIN_MARK), "diamond", COLORS["wait"],
                                  f"received: {format_json(step.result, limit=300)}"))
    elif step.kind == "wait_for_event" and step.state == "failed":
        row.markers.append(Marker(max(end, start + MIN_MARK), "cross", COLORS["timeout"],
                                  "timed out (EventTimeout)"))


def _outcome(step: StepEntry) -> tuple[str, str]:
    started, ended = _epoch(step.started), _epoch(step.ended)
    took = format_duration(ended - started) if started is not None and ended is not None \
        else ""
    if step.kind == "do":
        attempts = f"{step.attempts} attempt{'s' if step.attempts != 1 else ''}"
        if step.state == "done":
            return f"done · {attempts} · {took}", COLORS["ok"]
        if step.state == "failed":
            cause = (step.error or {}).get("cause", "error")
            return f"failed · {attempts} · {cause}", COLORS["fail"]
        if step.state == "retrying":
            return f"retrying · {attempts} so far", COLORS["fail"]
        return f"{step.state} · {attempts}", COLORS["muted"]
    if step.kind in ("sleep", "sleep_until"):
        if step.state == "waiting":
            return f"sleeping until {format_time(step.wake_at)}", COLORS["sleep"]
        return f"slept {took}", COLORS["sleep"]
    if step.kind == "wait_for_event":
        event_type = (step.config or {}).get("type", "")
        if step.state == "done":
            return f"got {event_type!r} after {took}", COLORS["wait"]
        if step.state == "failed":
            return f"timed out after {took}", COLORS["timeout"]
        return f"waiting for {event_type!r}", COLORS["wait"]
    return f"{step.state}: {format_json(step.result, limit=40, indent=None)}", COLORS["muted"]


def _event_title(event: EventEntry) -> str:
    consumed = (f"taken by step #{event.consumed_by_step}" if event.consumed_by_step
                is not None else "not taken by any step")
    return (f"event {event.type!r} at {format_time(event.timestamp)} ({consumed}): "
            f"{format_json(event.payload, limit=300, indent=None)}")


def _fit_labels(items: list[tuple[float, str]], min_x: float) -> list[tuple[float, str]]:
    """Keep labels left to right while they do not overlap the previous kept one."""
    kept: list[tuple[float, str]] = []
    edge = min_x
    for centre, text in items:
        half = len(text) * CHAR_WIDTH / 2
        if centre - half >= edge:
            kept.append((centre, text))
            edge = centre + half + 6
    return kept


def _new_labels(items: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """Drop a label that repeats the one before it (instants closer than its rounding):
    ``+10 ms +10 ms +10 ms`` reads as a broken axis."""
    return [item for i, item in enumerate(items) if i == 0 or item[1] != items[i - 1][1]]


def layout_timeline(history: History) -> Timeline:
    """Compute the timeline of ``history``: one row per step, then events and prints."""
    status = history.status
    instants = _instants(history)
    plot_left = LABEL_WIDTH
    x = _Scale(instants, plot_left, PLOT_MIN_WIDTH)
    rows: list[Row] = []
    y = float(TOP)
    by_seq: dict[int, Row] = {}
    for step in history.steps:
        outcome, color = _outcome(step)
        full = _step_label(step)
        row = Row(y, step.kind, shorten(full, 36 - len(step.kind)),
                  f"step #{step.seq}: {step.kind} {full}", outcome, color)
        if step.kind == "do":
            _do_row(row, step, x)
        elif step.kind in ("sleep", "sleep_until"):
            _span_row(row, step, x, COLORS["sleep"], COLORS["sleep_fill"])
        elif step.kind == "wait_for_event":
            _span_row(row, step, x, COLORS["wait"], COLORS["wait_fill"])
        else:
            row.markers.append(Marker(x(_epoch(step.started)), "circle", COLORS["muted"],
                                      f"{step.kind}: {format_json(step.result, limit=200)}"))
        rows.append(row)
        by_seq[step.seq] = row
        y += ROW_HEIGHT
    connectors: list[Connector] = []
    if history.events:
        consumed = sum(1 for e in history.events if e.consumed_by_step is not None)
        row = Row(y, "", "events", "events sent to this instance",
                  f"{len(history.events)} received · {consumed} taken", COLORS["wait"])
        placed: list[tuple[float, str]] = []
        for event in history.events:
            at = x(_epoch(event.timestamp))
            taken = event.consumed_by_step is not None
            row.markers.append(Marker(at, "diamond", COLORS["wait"], _event_title(event),
                                      filled=taken))
            placed.append((at, shorten(event.type, 18)))
            target = by_seq.get(event.consumed_by_step) if taken else None  # type: ignore[arg-type]
            if target is not None:
                step = next(s for s in history.steps if s.seq == event.consumed_by_step)
                end = x(_epoch(step.ended))
                connectors.append(Connector(at, row.middle - 6, end, target.middle + 7,
                                            COLORS["wait"], dash="2 3",
                                            title=f"{event.type!r} taken by {step.name!r}"))
        for centre, text in _fit_labels(sorted(placed), plot_left - 40):
            for marker in row.markers:
                if marker.x == centre and not marker.label:
                    marker.label = text
                    break
        rows.append(row)
        y += ROW_HEIGHT
    if history.logs:
        row = Row(y, "", "print", "lines the plan printed",
                  f"{len(history.logs)} line{'s' if len(history.logs) != 1 else ''} "
                  "(listed below)", COLORS["muted"])
        for log in history.logs:
            row.markers.append(Marker(x(_epoch(log.at)), "tick", COLORS["muted"],
                                      f"{format_time(log.at)}: {shorten(log.line, 300)}"))
        rows.append(row)
        y += ROW_HEIGHT
    axis_y = y + 6
    start = x.points[0] if x.points else _epoch(status.created) or 0.0
    tick_items = _new_labels([(px, "+" + format_duration(t - start) if t > start else "0")
                              for t, px in zip(x.points, x.xs, strict=False)])
    labelled = dict(_fit_labels(tick_items, plot_left - 20))
    ticks = [Tick(px, labelled.get(px, ""), format_time(t))
             for t, px in zip(x.points, x.xs, strict=False)]
    gap_items = [((a + b) / 2, format_duration(tb - ta))
                 for a, b, ta, tb in zip(x.xs, x.xs[1:], x.points, x.points[1:], strict=False)
                 if b - a >= len(format_duration(tb - ta)) * CHAR_WIDTH + 4]
    return Timeline(width=x.right + OUTCOME_GAP + OUTCOME_WIDTH, height=axis_y + BOTTOM,
                    plot_left=plot_left, plot_right=x.right, axis_y=axis_y, rows=rows,
                    ticks=ticks, gaps=gap_items, connectors=connectors,
                    start_label=f"started {format_time(status.created)}",
                    colors=COLORS, empty=not history.steps)
