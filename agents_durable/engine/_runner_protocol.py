"""The wire between the engine and a runner process: length-prefixed JSON frames.

Each frame is a 4-byte big-endian length and one UTF-8 JSON object with an ``op``. The
engine sends ``start`` (one activation: instance row, journal, grants, the agent's storage
usage; the plan's code and the limits only the first time a runner needs them), ``reply``
(to a request, with the engine's ``now``) and ``control``; the runner sends ``ready`` (its
confinement report), ``record_step`` (a journal row, never answered: commits are
pipelined), requests with an ``id`` (``agent_usage``, ``tool``, ``sleep_until``,
``latest_plan``, ``start_child``), ``cancel``, ``attempt_began``/``attempt_ended`` (a
step attempt begins and ends, when the engine's observer wants them; never answered)
and ``finish``. Records cross as plain dicts of their dataclass fields. The engine treats
every frame from a runner as untrusted input: a frame over the size limit, or one that
does not decode to the expected shape, kills the runner (see ``_runner_pool``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import struct
from typing import Any

from agents_durable.store import (
    EventRecord,
    Finish,
    InstanceRecord,
    Journal,
    NewInstance,
    StepRecord,
)

__all__ = ["ProtocolError", "decode_finish", "decode_journal", "decode_new_instance",
           "decode_record", "decode_step",
           "encode_finish", "encode_journal", "fields_of", "frame", "read_frame"]

_HEADER = struct.Struct(">I")
#: One encoder for every frame (``json.dumps`` with options builds one per call).
_ENCODER = json.JSONEncoder(separators=(",", ":"))


class ProtocolError(Exception):
    """A frame that breaks the protocol (too large, not JSON, the wrong shape)."""


def frame(message: dict[str, Any]) -> bytes:
    body = _ENCODER.encode(message).encode()
    return _HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader, limit: int) -> dict[str, Any] | None:
    """The next message, or None at a clean end of stream."""
    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError("the stream ended inside a frame header") from None
        return None
    (size,) = _HEADER.unpack(header)
    if size > limit:
        raise ProtocolError(f"a frame of {size:,} bytes is over the limit of {limit:,}")
    try:
        body = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise ProtocolError("the stream ended inside a frame") from None
    try:
        message = json.loads(body.decode())  # str is quicker to parse than bytes
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(f"a frame is not JSON ({exc})") from None
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise ProtocolError("a frame is not an object with an op")
    return message


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def fields_of(record: Any) -> dict[str, Any]:
    """A dataclass record as a plain dict of its fields (the names cached per class)."""
    cls = type(record)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(record))
    return {name: getattr(record, name) for name in names}


_KINDS: dict[type, dict[str, tuple[type, ...]]] = {}


def _kinds(cls: type) -> dict[str, tuple[type, ...]]:
    """The JSON types each field of ``cls`` accepts, from its annotation (cached)."""
    kinds = _KINDS.get(cls)
    if kinds is None:
        kinds = {}
        for f in dataclasses.fields(cls):
            text = str(f.type)
            accepted: list[type] = []
            if "None" in text:
                accepted.append(type(None))
            if "tuple" in text:
                accepted.append(list)
            elif "str" in text:
                accepted.append(str)
            if "float" in text:
                accepted += [float, int]
            elif "int" in text:
                accepted.append(int)
            if "bool" in text:
                accepted.append(bool)
            kinds[f.name] = tuple(accepted)
        _KINDS[cls] = kinds
    return kinds


def _typed(cls: type, data: Any) -> Any:
    """``cls(**data)`` after checking each field's JSON type (untrusted input)."""
    if not isinstance(data, dict):
        raise ProtocolError(f"a {cls.__name__} must be an object")
    kinds = _kinds(cls)
    for name, value in data.items():
        accepted = kinds.get(name)
        if accepted is None:
            raise ProtocolError(f"unknown {cls.__name__} field {str(name)[:40]!r}")
        if type(value) not in accepted:
            raise ProtocolError(f"{cls.__name__}.{name} has the wrong type")
    return cls(**data)


def decode_step(data: Any) -> StepRecord:
    step: StepRecord = _typed(StepRecord, data)
    return step


def decode_new_instance(data: Any) -> NewInstance:
    new: NewInstance = _typed(NewInstance, data)
    return new


def decode_record(data: dict[str, Any]) -> InstanceRecord:
    """The instance row of a ``start``, in a runner. What the engine sends is trusted (it
    is the side that checks): built without the per-field checks of ``_typed``."""
    return InstanceRecord(**data)


def encode_journal(journal: Journal) -> dict[str, Any]:
    return {"steps": [fields_of(s) for s in journal.steps.values()],
            "events": [fields_of(e) for e in journal.events],
            "last_event_seq": journal.last_event_seq, "log_lines": journal.log_lines,
            "log_bytes": journal.log_bytes}


def decode_journal(data: dict[str, Any]) -> Journal:
    """The journal of a ``start``, in a runner: trusted, like ``decode_record``."""
    steps = [StepRecord(**s) for s in data["steps"]]
    return Journal(steps={s.seq: s for s in steps},
                   events=[EventRecord(**e) for e in data["events"]],
                   last_event_seq=int(data["last_event_seq"]),
                   log_lines=int(data["log_lines"]), log_bytes=int(data["log_bytes"]))


def encode_finish(finish: Finish) -> dict[str, Any]:
    data = fields_of(finish)
    data["logs"] = list(finish.logs)
    del data["steps"]  # a runner sends each row with record_step, checked as it arrives
    return data


def decode_finish(data: Any) -> Finish:
    if not isinstance(data, dict):
        raise ProtocolError("a finish must be an object")
    logs = data.get("logs", [])
    if not isinstance(logs, list) or not all(isinstance(line, str) for line in logs):
        raise ProtocolError("finish.logs must be a list of strings")
    if "steps" in data:  # rows would skip the checks record_step frames get
        raise ProtocolError("a finish carries no journal rows; send each with record_step")
    finish: Finish = _typed(Finish, data)
    if finish.status not in ("complete", "errored", "waiting", "queued"):
        raise ProtocolError(f"finish.status {finish.status[:20]!r} is not an end")
    return dataclasses.replace(finish, logs=tuple(logs))
