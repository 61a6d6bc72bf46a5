"""A live stream of one instance's journal as server-sent events (``text/event-stream``).

In the spirit of Cloudflare's ``subscribe()``: the stream first replays the journal
(from the start, or after a ``cursor``: the ``id`` of the last message a client saw,
sent back as ``?cursor=`` or the ``Last-Event-ID`` header on reconnect), then follows it
live, and ends with a ``status`` message once the instance is complete, errored or
terminated.

Messages (``event:`` name, ``data:`` JSON):

- ``step``: a step that settled (``done`` or ``failed``), as in ``history().steps``;
- ``event``: an event the instance received;
- ``log``: a line the plan printed;
- ``status``: the instance's status whenever it changes (the last message of the stream).

Message ids order the journal by time (``<time>-<kind>-<seq>``), so a reconnect resumes
after the last message seen. Live messages are found by what was not sent yet, not by
time, so a late-committed row is never skipped while connected.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import StreamingResponse

from agents_durable.server._context import settings_of
from agents_durable.server._http import ApiError

__all__ = ["stream_instance"]

_RANK = {"status": 0, "event": 1, "step": 2, "log": 3}
_FINISHED = ("complete", "errored", "terminated")


def _key(at: float, kind: str, seq: int) -> tuple[float, int, int]:
    return (round(at, 6), _RANK[kind], seq)


def _cursor_id(key: tuple[float, int, int], kind: str) -> str:
    return f"{key[0]:.6f}-{kind}-{key[2]}"


def parse_cursor(text: str | None) -> tuple[float, int, int] | None:
    if not text:
        return None
    try:
        at, kind, seq = text.split("-")
        return _key(float(at), kind, int(seq))
    except (ValueError, KeyError):
        raise ApiError("invalid_request", "cursor must be the id of a stream message") \
            from None


def _entries(history: Any) -> list[tuple[tuple[float, int, int], str, str, Any]]:
    """(key, identity, kind, data) of every message the journal holds now."""
    out: list[tuple[tuple[float, int, int], str, str, Any]] = []
    for step in history.steps:
        if step.state in ("done", "failed") and step.ended is not None:
            key = _key(step.ended.timestamp(), "step", step.seq)
            out.append((key, f"step-{step.seq}-{step.state}", "step",
                        step.model_dump(mode="json")))
    for event in history.events:
        key = _key(event.timestamp.timestamp(), "event", event.seq)
        out.append((key, f"event-{event.seq}", "event", event.model_dump(mode="json")))
    for index, log in enumerate(history.logs):
        key = _key(log.at.timestamp(), "log", index)
        out.append((key, f"log-{index}", "log", log.model_dump(mode="json")))
    status = history.status
    data = status.model_dump(mode="json", exclude={"steps"})
    key = _key(status.updated.timestamp(), "status", 0)
    out.append((key, f"status-{status.status}-{status.updated.timestamp()}", "status", data))
    out.sort(key=lambda entry: entry[0])
    return out


def _message(key: tuple[float, int, int], kind: str, data: Any) -> str:
    return (f"id: {_cursor_id(key, kind)}\nevent: {kind}\n"
            f"data: {json.dumps(data, separators=(',', ':'))}\n\n")


async def stream_instance(request: Request, instance: Any, cursor: str | None
                          ) -> StreamingResponse:
    after = parse_cursor(cursor)
    poll = settings_of(request).stream_poll
    engine = settings_of(request).engine
    first = await instance.history()  # a missing instance fails before the stream starts

    async def messages() -> AsyncIterator[str]:
        sent: set[str] = set()
        history = first
        replaying = True
        quiet = 0
        while True:
            entries = _entries(history)
            for key, identity, kind, data in entries:
                if identity in sent:
                    continue
                sent.add(identity)
                if replaying and after is not None and key <= after:
                    continue
                yield _message(key, kind, data)
            replaying = False
            if history.status.status in _FINISHED:
                return
            changed = engine.watch(instance.agent_id, instance.id)
            with anyio.move_on_after(poll):
                await changed.wait()
            if await request.is_disconnected():
                return
            quiet += 1
            if quiet * poll >= 15:  # a comment line keeps proxies from timing out
                quiet = 0
                yield ": keep-alive\n\n"
            history = await instance.history()

    return StreamingResponse(messages(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
