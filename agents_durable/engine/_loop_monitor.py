"""A watchdog for code that blocks the event loop.

Every activation shares one event loop. An ``async`` tool that calls ``time.sleep`` (or
any long synchronous stretch of host or plan code) stalls every agent, and no timeout can
fire while it runs: timeouts are loop timers. A heartbeat task stamps the time a few
times a second; a daemon thread watches the stamp, and when it goes stale it reads the
loop thread's stack to name the culprit (the tool, its step and instance, or plan code)
and logs it once per stall. The step's own timeout is then enforced when control returns
(``Activation._with_timeout`` checks its deadline after the callback ends).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from types import FrameType
from typing import Any

import anyio

__all__ = ["LoopMonitor"]

logger = logging.getLogger("agents_durable")


class LoopMonitor:
    """Logs a warning naming whatever blocks the loop for ``threshold`` seconds or more."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._beat = time.monotonic()
        self._loop_thread = threading.get_ident()
        self._stop = threading.Event()
        #: What each detected stall was blamed on, for tests and operators (newest last).
        self.stalls: list[str] = []

    async def run(self) -> None:
        """The heartbeat; runs until cancelled. Starts the watching thread."""
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        watcher = threading.Thread(target=self._watch, name="agents_durable loop monitor",
                                   daemon=True)
        watcher.start()
        try:
            while True:
                self._beat = time.monotonic()
                await anyio.sleep(self.threshold / 4)
        finally:
            self._stop.set()

    def _watch(self) -> None:
        reported = 0.0
        while not self._stop.wait(self.threshold / 4):
            beat = self._beat
            stale = time.monotonic() - beat
            if stale < self.threshold or beat == reported:
                continue
            reported = beat  # one warning per stall
            frame = sys._current_frames().get(self._loop_thread)
            culprit = describe(frame) if frame is not None else None
            what = culprit or "host code outside any step"
            self.stalls.append(what)
            advice = ("the plan's budget stops it at its CPU limit; move heavy computation "
                      "into a host tool" if what.startswith("plan code") else
                      "make the tool sync (it then runs in a thread) or await instead of "
                      "blocking; its step timeout is enforced when it returns")
            logger.warning("the event loop has been blocked for %.1f s by %s; every agent's "
                           "instances wait meanwhile: %s", stale, what, advice)


def describe(frame: FrameType | None) -> str | None:
    """``tool 'x' in step 'y' of instance agent/id`` for the innermost step on the stack."""
    tool: str | None = None
    step: str | None = None
    plan = False
    while frame is not None:
        code = frame.f_code
        local: dict[str, Any] = {}
        try:
            if code.co_name in ("_run", "_attempt", "run", "execute", "_handle"):
                local = dict(frame.f_locals)
        except Exception:  # a frame changing under us: best effort only
            local = {}
        owner: Any = local.get("self")
        if code.co_filename.startswith("<plan "):
            plan = True
        if code.co_name == "_run" and type(owner).__name__ == "ToolCall" and tool is None:
            tool = str(getattr(owner, "_name", "?"))
        elif code.co_name == "_attempt" and step is None:
            context = local.get("context")
            step = str(getattr(context, "name", "?"))
        elif code.co_name == "_handle" and type(owner).__name__ == "RemoteActivation":
            # a tool call a runner process asked for: its step is named in the request
            record = owner.record
            message = local.get("message") or {}
            return (f"tool {str(message.get('name', '?'))!r} in step "
                    f"{str(message.get('step', '?'))!r} of instance "
                    f"{record.agent_id}/{record.id}")
        elif code.co_name == "run" and type(owner).__name__ == "Activation":
            record = owner.record
            where = f"instance {record.agent_id}/{record.id}"
            if tool is not None:
                return f"tool {tool!r} in step {step!r} of {where}"
            if step is not None:
                return f"the callback of step {step!r} of {where}"
            return f"plan code of {where} (after step {owner.last_step!r})" if plan \
                else f"the activation of {where}"
        frame = frame.f_back
    return None
