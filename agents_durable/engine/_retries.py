"""Step configuration: retries and timeouts, checked when the step call is made.

Every number here is bounded before the engine does arithmetic with it: a plan's config is
untrusted input, and an absurd one (``limit=10**9``, a huge exponential backoff) must be a
clear error of the plan, never an engine ``OverflowError`` or an endless retry loop.
"""

from __future__ import annotations

from typing import Any

from agents_durable.engine._durations import MAX_SECONDS, parse_duration
from agents_durable.errors import PlanRuntimeError
from agents_durable.plans._sizes import safe_repr

__all__ = ["DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "MAX_RETRIES", "retry_delay", "step_config"]

BACKOFFS = ("constant", "linear", "exponential")
_RETRY_KEYS = frozenset({"limit", "delay", "backoff"})
DEFAULT_RETRIES: dict[str, Any] = {"limit": 5, "delay": 10.0, "backoff": "exponential"}
DEFAULT_TIMEOUT = 600.0
#: The most retries a step may ask for (so at most 101 attempts).
MAX_RETRIES = 100


def step_config(retries: Any, timeout: Any) -> dict[str, Any]:
    """The JSON config a ``step.do`` runs under, or ``PlanRuntimeError`` naming the fix."""
    config = dict(DEFAULT_RETRIES)
    if retries is not None:
        if not isinstance(retries, dict):
            raise PlanRuntimeError("retries must be a dict like {'limit': 3, 'delay': "
                                   "'5 seconds', 'backoff': 'exponential'}")
        unknown = [key for key in retries if key not in _RETRY_KEYS]
        if unknown:
            raise PlanRuntimeError(f"unknown retries option(s) {safe_repr(unknown[:5], 300)}; "
                                   "use limit, delay and backoff")
        if "limit" in retries:
            limit = retries["limit"]
            if (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0
                    or limit > MAX_RETRIES):
                raise PlanRuntimeError(f"retries['limit'] must be an int from 0 to "
                                       f"{MAX_RETRIES}")
            config["limit"] = limit
        if "delay" in retries:
            config["delay"] = parse_duration(retries["delay"], what="retries['delay']")
        if "backoff" in retries:
            if retries["backoff"] not in BACKOFFS:
                raise PlanRuntimeError("retries['backoff'] must be 'constant', 'linear' or "
                                       "'exponential'")
            config["backoff"] = retries["backoff"]
    config["timeout"] = (DEFAULT_TIMEOUT if timeout is None
                         else parse_duration(timeout, what="timeout"))
    return config


def retry_delay(config: dict[str, Any], attempt: int) -> float:
    """Delay after failed attempt ``attempt`` (1-based), per SPEC 2.2, at most a year.

    ``config`` may come from a journal row (the config recorded at the step's first run),
    so it is clamped here too rather than trusted.
    """
    try:
        delay = min(max(float(config["delay"]), 0.0), MAX_SECONDS)
    except (TypeError, ValueError, KeyError):
        delay = float(DEFAULT_RETRIES["delay"])
    attempt = min(max(attempt, 1), MAX_RETRIES + 1)
    backoff = config.get("backoff")
    if backoff == "exponential":
        return min(delay * 2.0 ** (attempt - 1), MAX_SECONDS)
    if backoff == "linear":
        return min(delay * attempt, MAX_SECONDS)
    return delay
