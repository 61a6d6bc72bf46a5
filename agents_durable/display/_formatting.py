"""Small formatters shared by the HTML and the plain-text views.

They turn engine data into short human text: durations ("2 days 3 h"), UTC times, and
JSON values pretty-printed and clipped so that a 1 MiB step result does not flood a
notebook cell. None of them escapes anything: escaping is the templates' job (jinja2
autoescape), and the plain-text views must show text exactly as it is.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

__all__ = ["format_duration", "format_json", "format_time", "shorten"]

_UNITS = (("day", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0))


def format_duration(seconds: float | None) -> str:
    """``0 s``, ``15 s``, ``2 min 30 s``, ``1 h 5 min``, ``2 days``, ``3 days 4 h``.

    At most two units, largest first; sub-second durations show milliseconds, with a
    decimal below 10 ms (``0.4 ms``, not a misleading ``0 ms``).
    """
    if seconds is None:
        return ""
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        milliseconds = seconds * 1000
        if seconds == 0:
            return "0 s"
        if milliseconds < 0.05:
            return "<0.1 ms"
        return f"{milliseconds:.1f} ms" if milliseconds < 9.95 else f"{milliseconds:.0f} ms"
    parts: list[str] = []
    rest = round(seconds)
    for unit, size in _UNITS:
        count, rest = divmod(rest, int(size))
        if count:
            label = unit + ("s" if unit == "day" and count != 1 else "")
            parts.append(f"{count} {label}")
        if len(parts) == 2:
            break
        if parts and not count:
            break
    return " ".join(parts) or "0 s"


def format_time(value: dt.datetime | float | None) -> str:
    """An aware datetime or epoch seconds as ``2026-01-03 00:00:05 UTC``."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromtimestamp(float(value), dt.UTC)
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + " UTC"


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis when it is longer."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def format_json(value: Any, *, limit: int = 4000, indent: int | None = 2) -> str:
    """``value`` as indented JSON (non-ASCII kept), clipped to ``limit`` characters."""
    try:
        text = json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=False,
                          default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit:,} more characters)"
    return text
