"""Schedules: ``agent.schedule(name, plan, cron=..., timezone=..., params=...,
overlap=..., catch_up=...)`` starts an instance of ``plan`` at every slot of a cron
expression, evaluated in ``timezone``.

- **One instance per slot.** A slot's instance id is ``<schedule>-<slot as UTC
  YYYYMMDDTHHMMZ>``, and the store fires slots in a transaction that is conditional on
  the schedule's ``next_at`` (``_sqlite_schedules``): with any number of workers, and
  after any crash, a slot never starts a second instance.
- **Time zones and DST.** Slots are computed by cronsim in the schedule's zone, with
  Debian cron's rules: a slot in the hour skipped in spring runs right after the jump;
  one in the repeated hour in autumn runs once.
- **Overlap**, when the previous instance is still active at a slot: ``skip`` the slot,
  ``queue`` it (it starts when that instance ends; one slot is held, later ones follow
  the catch-up policy), or ``allow`` a concurrent instance.
- **Catch-up**, for slots that passed while no worker ran (more than ``ON_TIME`` ago):
  ``none`` drops them, ``latest`` starts the most recent one, ``all`` starts every one.
- ``event.timestamp`` of a slot's instance is the slot's time, and ``event.payload``
  the schedule's ``params``.

Why cronsim (an extra, imported lazily): it is small, has no dependencies, is written for
and run by a cron-monitoring service (Healthchecks), works with ``zoneinfo`` and aims to
match Debian's cron exactly, DST quirks included. croniter is larger and its maintenance
lapsed in 2024 before it moved to a new home; cronsim's scope (no seconds field, no
reverse iteration) is all a schedule needs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from agents_durable.engine._json import encode_json
from agents_durable.errors import LimitExceeded, PlanNotFound, UsageError
from agents_durable.store._records import NewInstance, ScheduleRecord

if TYPE_CHECKING:
    from agents_durable.engine._agent import AgentScope
    from agents_durable.engine._engine import Engine

__all__ = ["ON_TIME", "Schedule", "create_schedule", "fire_due", "next_slot"]

#: A slot this many seconds past (or less) is on time; older ones were missed.
ON_TIME = 60.0
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")
_OVERLAP = ("skip", "queue", "allow")
_CATCH_UP = ("none", "latest", "all")
#: The most slots one schedule fires in one go (catch_up="all" after a long downtime).
_MAX_SLOTS = 100


class Schedule(BaseModel):
    """A schedule as stored: when it fires next (None while paused)."""

    model_config = ConfigDict(frozen=True)

    name: str
    plan: str
    cron: str
    timezone: str
    params: Any
    overlap: Literal["skip", "queue", "allow"]
    catch_up: Literal["none", "latest", "all"]
    paused: bool
    next_at: dt.datetime | None

    @classmethod
    def from_record(cls, record: ScheduleRecord) -> Schedule:
        return cls(name=record.name, plan=record.plan, cron=record.cron,
                   timezone=record.timezone, params=json.loads(record.params),
                   overlap=record.overlap, catch_up=record.catch_up,  # type: ignore[arg-type]
                   paused=record.paused,
                   next_at=None if record.next_at is None or record.paused
                   else dt.datetime.fromtimestamp(record.next_at, dt.UTC))


def _zone(timezone: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(timezone, str) or not timezone:
        raise UsageError("timezone must be an IANA zone name such as 'Europe/Berlin'")
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown timezone {timezone!r}; use an IANA zone name such as "
                         "'Europe/Berlin' or 'UTC'") from None


def _cron_library() -> Any:
    try:
        import cronsim
    except ImportError:  # pragma: no cover - the extra is part of the test install
        raise UsageError("schedules need the cron extra: pip install "
                         "'agents_durable[schedules]'") from None
    return cronsim


def next_slot(cron: str, timezone: str, after: float) -> float:
    """The first slot of ``cron`` in ``timezone`` strictly after epoch ``after``."""
    cronsim = _cron_library()
    start = dt.datetime.fromtimestamp(after, _zone(timezone))
    try:
        slot = next(iter(cronsim.CronSim(cron, start)))
    except cronsim.CronSimError as error:
        raise UsageError(f"cron expression {cron!r} is invalid ({error}); use five fields: "
                         "minute hour day-of-month month day-of-week, e.g. '0 9 * * MON'"
                         ) from None
    except StopIteration:
        raise UsageError(f"cron expression {cron!r} never matches") from None
    return float(slot.timestamp())


def _slots(record: ScheduleRecord, now: float) -> list[float]:
    """The slots from ``next_at`` through ``now`` (the newest ``_MAX_SLOTS``)."""
    assert record.next_at is not None
    found = [record.next_at]
    while len(found) < 10_000:
        following = next_slot(record.cron, record.timezone, found[-1])
        if following > now:
            break
        found.append(following)
    return found[-_MAX_SLOTS:]


def _slot_id(name: str, slot: float) -> str:
    return f"{name}-{dt.datetime.fromtimestamp(slot, dt.UTC):%Y%m%dT%H%MZ}"


async def create_schedule(scope: AgentScope, name: str, plan: str, *, cron: str,
                          timezone: str, params: Any, overlap: str,
                          catch_up: str) -> Schedule:
    engine = scope._engine
    engine.check_open()
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"schedule name {name!r} is invalid: use 1-64 characters from A-Z, "
                         "a-z, 0-9, '_' and '-', not starting with '-'")
    if overlap not in _OVERLAP:
        raise UsageError(f"overlap must be one of {', '.join(_OVERLAP)}, not {overlap!r}")
    if catch_up not in _CATCH_UP:
        raise UsageError(f"catch_up must be one of {', '.join(_CATCH_UP)}, not {catch_up!r}")
    if not isinstance(cron, str):
        raise UsageError("cron must be a cron expression string such as '0 9 * * MON'")
    await scope.get_plan(plan)  # PlanNotFound now rather than at the first slot
    now = engine.clock.now()
    first = next_slot(cron, timezone, now)
    text = encode_json({} if params is None else params,
                       limit=engine.limits.max_payload_bytes, what="params",
                       not_json=UsageError, too_large=LimitExceeded)
    record = ScheduleRecord(agent_id=scope.agent_id, name=name, plan=plan, cron=cron,
                            timezone=timezone, params=text, overlap=overlap,
                            catch_up=catch_up, paused=False, next_at=first, held=None,
                            created_at=now)
    await engine.store.put_schedule(record)
    engine.schedules_changed()
    return Schedule.from_record(record)


async def fire_due(engine: Engine, now: float) -> int:
    """Start the instances of every due slot; return how many were created."""
    created = 0
    for record in await engine.store.due_schedules(now):
        try:
            created += await _fire(engine, record, now)
        except (PlanNotFound, UsageError) as error:  # the plan was never there, a bad zone
            import logging

            logging.getLogger("agents_durable").warning(
                "schedule %r of agent %r cannot fire: %s", record.name, record.agent_id,
                error)
            await engine.store.set_schedule_paused(record.agent_id, record.name, True, None)
    return created


async def _fire(engine: Engine, record: ScheduleRecord, now: float) -> int:
    assert record.next_at is not None
    slots = _slots(record, now)
    if record.held is not None:
        chosen = [record.held] + [s for s in _policy(record, slots, now) if s > record.held]
    else:
        chosen = _policy(record, slots, now)
    held = None
    if record.overlap != "allow" and chosen:
        if await engine.store.schedule_active(record.agent_id, record.name):
            # queue: the first slot waits for the active instance to end; skip: dropped
            held, chosen = (chosen[0] if record.overlap == "queue" else None), []
        elif len(chosen) > 1:
            # one at a time: queue holds the next slot, skip drops the rest
            held, chosen = (chosen[1] if record.overlap == "queue" else None), chosen[:1]
    # a held slot stays the schedule's next_at: due, it is looked at again whenever an
    # activation ends (the engine does not park on it)
    following = held if held is not None else next_slot(record.cron, record.timezone,
                                                        max(slots[-1], now))
    version = await engine.agent(record.agent_id).get_plan(record.plan) if chosen else None
    news = [NewInstance(agent_id=record.agent_id, id=_slot_id(record.name, slot),
                        plan_name=version.name, plan_version=version.version,
                        plan_hash=version.hash, params=record.params, created_at=slot)
            for slot in chosen if version is not None]
    ids = await engine.store.fire_schedule(record.agent_id, record.name,
                                           expected_next_at=record.next_at, instances=news,
                                           next_at=following, held=held)
    if ids:
        engine.notify()
    return len(ids)


def _policy(record: ScheduleRecord, slots: list[float], now: float) -> list[float]:
    on_time = [s for s in slots if now - s <= ON_TIME]
    if record.catch_up == "all":
        return slots
    if record.catch_up == "latest":
        return slots[-1:]
    return on_time[-1:]
