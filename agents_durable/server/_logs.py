"""Structured logs: one JSON object a line, with the agent and instance on every line.

The agent and instance come from context variables set around each request and, through
the engine's observer, around each activation; a line logged anywhere below (the
engine's own loggers included) carries them.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
from collections.abc import Iterator

__all__ = ["JsonFormatter", "configure_json_logs", "log_context"]

_agent: contextvars.ContextVar[str | None] = contextvars.ContextVar("ad_agent", default=None)
_instance: contextvars.ContextVar[str | None] = contextvars.ContextVar("ad_instance",
                                                                       default=None)


@contextlib.contextmanager
def log_context(*, agent: str | None, instance: str | None) -> Iterator[None]:
    agent_token = _agent.set(agent)
    instance_token = _instance.set(instance)
    try:
        yield
    finally:
        _instance.reset(instance_token)
        _agent.reset(agent_token)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "agent", "instance"[, "exception"]}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "agent": getattr(record, "agent", None) or _agent.get(),
            "instance": getattr(record, "instance", None) or _instance.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_json_logs(level: int = logging.INFO) -> None:
    """Send ``agents_durable`` and ``uvicorn`` logs to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("agents_durable", "uvicorn", "uvicorn.error", "uvicorn.access"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level)
        log.propagate = False
