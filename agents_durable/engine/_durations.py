"""Durations and points in time as plans and hosts write them.

A duration is a number of seconds (int or float, not bool), a ``timedelta``, or a string
``"<n> <unit>[s]"`` with unit second, minute, hour, day, week, month (30 days) or year
(365 days). Anything else is an ``InvalidDuration``: never silently milliseconds.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from agents_durable.errors import InvalidDuration
from agents_durable.plans._sizes import safe_repr

__all__ = ["MAX_SECONDS", "UNITS", "parse_duration", "parse_instant"]

UNITS: dict[str, float] = {
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "week": 7 * 86400.0,
    "month": 30 * 86400.0,
    "year": 365 * 86400.0,
}
#: The longest sleep, wait or retry delay (SPEC 2.2: 365 days).
MAX_SECONDS = UNITS["year"]
_GRAMMAR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$", re.IGNORECASE)
_FORMAT = '"<number> <second|minute|hour|day|week|month|year>[s]", e.g. "30 seconds"'


def parse_duration(value: object, *, what: str = "duration") -> float:
    """Seconds in ``value``; raise ``InvalidDuration`` naming the accepted forms."""
    if isinstance(value, bool):
        raise InvalidDuration(f"{what} must be a number of seconds, a timedelta or "
                              f"{_FORMAT}; got a bool")
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:  # an int too large for a float: far past any limit
            seconds = math.inf
    elif isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        match = _GRAMMAR.match(value)
        unit = match.group(2).lower() if match else ""
        if not match or unit not in UNITS:
            raise InvalidDuration(f"{what} {safe_repr(value, 80)} is not a duration; "
                                  f"write {_FORMAT}")
        seconds = float(match.group(1)) * UNITS[unit]
    else:
        raise InvalidDuration(f"{what} must be a number of seconds, a timedelta or "
                              f"{_FORMAT}; got {type(value).__name__}")
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        raise InvalidDuration(f"{what} must be a finite, non-negative length of time; "
                              f"got {safe_repr(value, 80)}")
    return seconds


def parse_instant(value: object, *, what: str = "time") -> float:
    """Epoch seconds from an aware datetime, an ISO-8601 string or epoch seconds."""
    if isinstance(value, bool):
        raise InvalidDuration(f"{what} must be an aware datetime, ISO-8601 text or epoch "
                              "seconds; got a bool")
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
        if math.isnan(seconds) or math.isinf(seconds):
            raise InvalidDuration(f"{what} must be finite")
        return seconds
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidDuration(f"{what} {safe_repr(value, 80)} is not ISO-8601 text such as "
                                  "'2026-01-31T09:00:00+00:00'") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidDuration(f"{what} {value.isoformat()!r} has no time zone; add one "
                                  "(e.g. +00:00) so it means one instant")
        return value.timestamp()
    raise InvalidDuration(f"{what} must be an aware datetime, ISO-8601 text or epoch "
                          f"seconds; got {type(value).__name__}")
