"""Replay-verification: does another plan version replay an instance's journal exactly?

A plan version is data and an instance's journal says exactly which step calls the old
version made, so moving an instance to a new version can be *proved* safe before it is
done, instead of hoped (Temporal's patching, DBOS's version strands) or skipped (applying
the latest code to every run). ``ReplayCheck`` is an activation of the target version
against a copy of the journal that

- replays every recorded step that finished (``done`` or ``failed``) from the journal, with
  the identity check every activation makes (``NondeterminismError`` at the first step
  whose kind, name or occurrence differs from the row at that position),
- stops each strand at its first step that is not finished in the journal (new, waiting,
  retrying): that is where the instance would go on under the new code, and nothing new
  runs here, so no step callback and no tool is ever called,
- writes nothing: its ``_save`` refuses, and no tool is granted.

A version is compatible when the replay reached every recorded step and ended in neither
a failure nor an error (the instance waits at its frontier, or would complete).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from agents_durable.engine._activation import Activation
from agents_durable.errors import AgentsDurableError, NondeterminismError, PlanRuntimeError
from agents_durable.store import InstanceRecord, Journal, StepRecord

if TYPE_CHECKING:
    from agents_durable.engine._engine import Engine
    from agents_durable.engine._facades import StepCall
    from agents_durable.plans._compile import CompiledPlan

__all__ = ["Divergence", "ReplayCheck", "StepRef", "UpgradeCheck", "UpgradeReport",
           "check_replay"]

_FINISHED = frozenset({"done", "failed"})


class StepRef(BaseModel):
    """A step call by identity: ``kind`` (do, sleep, wait_for_event...), name, occurrence."""

    model_config = ConfigDict(frozen=True)

    kind: str
    name: str
    occurrence: int


class Divergence(BaseModel):
    """Where a plan version stops replaying a journal. ``recorded`` is the journal's step
    there, ``requested`` what the version asks for instead (None: it asks for nothing
    there, e.g. it returned first); ``line`` and ``source`` the plan line, when known."""

    model_config = ConfigDict(frozen=True)

    message: str
    recorded: StepRef | None = None
    requested: StepRef | None = None
    line: int | None = None
    source: str | None = None


class UpgradeCheck(BaseModel):
    """The verdict of replaying one instance's journal against a plan version."""

    model_config = ConfigDict(frozen=True)

    id: str
    compatible: bool
    from_version: int
    from_hash: str
    to_version: int
    to_hash: str
    #: Recorded steps the target version replayed before it stopped or diverged.
    replayed: int
    #: Journal rows the check covered.
    recorded: int
    divergence: Divergence | None = None


class UpgradeReport(BaseModel):
    """What a bulk upgrade did: the instances it moved, and the verdicts of the rest."""

    model_config = ConfigDict(frozen=True)

    upgraded: list[str]
    refused: list[UpgradeCheck]


class ReplayCheck(Activation):
    """An activation that replays without executing or writing anything (module docstring)."""

    def __init__(self, engine: Engine, record: InstanceRecord, plan: CompiledPlan,
                 journal: Journal) -> None:
        super().__init__(engine, record, plan, journal, frozenset())
        self.visited: set[int] = set()
        #: The first unfinished step each strand asked for, in the order they were reached.
        self.frontier: list[StepRef] = []

    async def execute(self, call: StepCall) -> Any:
        recorded = call._record
        if recorded is not None:
            self.visited.add(recorded.seq)
        if recorded is None or recorded.state not in _FINISHED:
            self.unawaited.pop(call._id, None)
            self._check_alive()
            self.frontier.append(StepRef(kind=call._kind, name=call._name,
                                         occurrence=call._occurrence))
            raise self._suspend(None)
        return await super().execute(call)

    async def _save(self, record: StepRecord, consume_event: int | None = None) -> None:
        # unreachable by construction (nothing unfinished runs): refuse rather than write
        raise self.fail(PlanRuntimeError("a replay check may not record a step"))


async def check_replay(engine: Engine, record: InstanceRecord, journal: Journal,
                       target: Any) -> UpgradeCheck:
    """Replay ``journal`` (of ``record``) against ``target`` (a ``PlanVersion``)."""
    plan = await engine.load_plan(target.hash)
    check = ReplayCheck(engine, record, plan, journal)
    finish = await check.run()
    steps = journal.steps
    divergence = None
    stored = _stored_error(finish.error)
    failure = check.failure if check.failure is not None else check.budget.tripped
    if isinstance(failure, NondeterminismError):
        divergence = Divergence(message=str(failure), recorded=_ref(failure.recorded),
                                requested=_ref(failure.requested), line=stored.get("line"),
                                source=stored.get("source"))
    elif isinstance(failure, AgentsDurableError):
        divergence = Divergence(message=f"replay failed: {type(failure).__name__}: {failure}",
                                line=stored.get("line"), source=stored.get("source"))
    else:
        missed = sorted(seq for seq in steps if seq not in check.visited)
        if missed:
            row = steps[missed[0]]
            ended = {"complete": "returned", "errored": "raised an error"}.get(
                finish.status, "stopped at its next step")
            requested = check.frontier[0] if check.frontier and finish.status == "waiting" \
                else None
            divergence = Divergence(
                message=f"replay diverged: the journal recorded {row.kind} {row.name!r} "
                        f"(occurrence {row.occurrence}) but the plan {ended} without asking "
                        "for it",
                recorded=StepRef(kind=row.kind, name=row.name, occurrence=row.occurrence),
                requested=requested)
        elif finish.status == "errored":
            divergence = Divergence(
                message=f"replaying the journal ends in {stored.get('name', 'an error')}: "
                        f"{stored.get('message', '')}",
                line=stored.get("line"), source=stored.get("source"))
    return UpgradeCheck(id=record.id, compatible=divergence is None,
                        from_version=record.plan_version, from_hash=record.plan_hash,
                        to_version=target.version, to_hash=target.hash,
                        replayed=len(check.visited & set(steps)), recorded=len(steps),
                        divergence=divergence)


def _ref(identity: tuple[str, str, int] | None) -> StepRef | None:
    if identity is None:
        return None
    kind, name, occurrence = identity
    return StepRef(kind=kind, name=name, occurrence=occurrence)


def _stored_error(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
