"""``PlanToolkit``: what an AI agent may do with its own plans, as plain async functions.

Each function takes arguments described by a pydantic model (``_inputs.py``), returns a
pydantic result (``_results.py``), and never raises for something the model could fix:
a rejected plan, an unknown instance, a finished instance, a bad argument all come back
as a :class:`ToolFailure`. The docstrings are the tool descriptions a model reads, so
they speak to the model ("your plans"), not to the host developer.

Everything goes through one ``AgentScope``, so a toolkit sees exactly what its agent may
see: another agent's instance id is answered exactly like an id nobody ever used.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ValidationError

from agents_durable.agents._failures import failure_from_error, failure_from_validation
from agents_durable.agents._inputs import (
    CheckPlanInput,
    ListInstancesInput,
    ListPlansInput,
    PlanHistoryInput,
    PlanStatusInput,
    SendPlanEventInput,
    StartPlanInput,
    SubmitPlanInput,
    UpgradeInstancesInput,
)
from agents_durable.agents._results import (
    AttemptView,
    EventSent,
    EventView,
    InstanceHistory,
    InstanceListing,
    InstanceSummary,
    InstanceView,
    JournalStep,
    LogView,
    PlanChecked,
    PlanListing,
    PlanSubmitted,
    PlanSummary,
    StepView,
    ToolFailure,
    ToolResult,
    UpgradeRefusal,
    UpgradesDone,
)
from agents_durable.errors import AgentsDurableError, PlanRejected, UpgradeRefused
from agents_durable.plans import PlanPolicy, compile_plan

if TYPE_CHECKING:
    from agents_durable.engine import (
        AgentScope,
        Engine,
        Instance,
        InstanceStatus,
        StepEntry,
        StepRef,
        UpgradeCheck,
    )

__all__ = ["PlanToolkit", "ToolkitFunction"]

#: How many instances ``list_instances`` shows at most (newest first).
LIST_LIMIT = 50


@dataclass(frozen=True, slots=True)
class ToolkitFunction:
    """One toolkit function as a framework adapter needs it.

    ``description`` is the function's docstring (written for the model), ``input_model``
    the pydantic model of its arguments (the tool's JSON schema), and ``call`` runs it on
    a mapping of arguments, validating them first; it always returns a result model.
    """

    name: str
    description: str
    input_model: type[BaseModel]
    call: Callable[[Mapping[str, Any]], Awaitable[ToolResult]]


def _time(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC)


def _step_error(error: dict[str, Any] | None) -> str | None:
    """One line for a journal step's stored error, whatever kind of step stored it."""
    if not error:
        return None
    name = error.get("cause") or error.get("name") or "Error"
    if "message" in error:
        return f"{name}: {error['message']}"
    if "type" in error:
        return f"{name}: no event of type {error['type']!r} arrived before the timeout"
    return str(name)


def _instance_view(status: InstanceStatus) -> InstanceView:
    return InstanceView(
        instance_id=status.id, status=status.status, plan=status.plan,
        version=status.version, output=status.output, error=status.error,
        created=status.created, updated=status.updated, wake_at=status.wake_at,
        steps=[StepView(name=s.name, kind=s.kind, occurrence=s.occurrence, state=s.state,
                        attempts=s.attempts, wake_at=s.wake_at) for s in status.steps])


def _journal_step(step: StepEntry) -> JournalStep:
    attempts = [AttemptView(attempt=int(a.get("attempt", n)), started=_time(a.get("started")),
                            ended=_time(a.get("ended")), error=a.get("error"),
                            line=a.get("line") if isinstance(a.get("line"), int) else None,
                            source=a.get("source") if isinstance(a.get("source"), str)
                            else None)
                for n, a in enumerate(step.attempt_log, start=1)]
    return JournalStep(name=step.name, kind=step.kind, occurrence=step.occurrence,
                       state=step.state, attempts=attempts, started=step.started,
                       ended=step.ended, wake_at=step.wake_at, result=step.result,
                       error=_step_error(step.error))


class PlanToolkit:
    """Tools that let an AI agent check, submit, start, inspect and signal its own plans.

    ``PlanToolkit(engine, "support-bot", tools=["orders.get"])`` scopes everything to one
    agent and grants it host tools for its plans. Call the async methods directly, hand
    :meth:`functions` to a framework adapter (``agents_durable.agents.pydantic_ai``,
    ``.openai_agents``, ``.langchain``), and put :meth:`instructions` in the agent's
    system prompt: it teaches the plan language with this agent's tools and examples.
    """

    def __init__(self, engine: Engine, agent_id: str, *, tools: Collection[str] = (),
                 policy: PlanPolicy | None = None) -> None:
        self._engine = engine
        self._scope: AgentScope = engine.agent(agent_id, tools=tools, policy=policy)

    def __repr__(self) -> str:
        return f"<PlanToolkit agent={self.agent_id!r} tools={sorted(self._scope.tools)}>"

    @property
    def agent_id(self) -> str:
        """The agent every call of this toolkit acts for."""
        return self._scope.agent_id

    @property
    def scope(self) -> AgentScope:
        """The agent-scoped engine API behind the toolkit, for host code."""
        return self._scope

    def functions(self) -> list[ToolkitFunction]:
        """Every toolkit function with its description and input model, in a fixed order."""
        return [ToolkitFunction(name=name, description=inspect.getdoc(getattr(self, name)) or "",
                                input_model=model, call=self._caller(name))
                for name, (model, _) in _FUNCTIONS.items()]

    def instructions(self) -> str:
        """The system prompt that teaches the plan language to this agent (Markdown)."""
        from agents_durable.agents._instructions import render_instructions

        return render_instructions(self._engine, self._scope,
                                   {f.name: f.description for f in self.functions()})

    def _caller(self, name: str) -> Callable[[Mapping[str, Any]], Awaitable[ToolResult]]:
        async def call(arguments: Mapping[str, Any]) -> ToolResult:
            return await self.call(name, arguments)

        return call

    async def call(self, name: str, arguments: Mapping[str, Any]) -> ToolResult:
        """Run toolkit function ``name`` on JSON-like ``arguments``; never raises for them.

        Arguments that do not fit the function's input model, and every library error a
        model could act on, come back as a :class:`ToolFailure`.
        """
        try:
            model, implementation = _FUNCTIONS[name]
        except KeyError:
            return ToolFailure(error="invalid_argument",
                               message=f"There is no tool named {name!r}; the tools are "
                                       f"{', '.join(_FUNCTIONS)}.")
        try:
            args = model.model_validate(dict(arguments))
        except ValidationError as exc:
            return failure_from_validation(name, exc)
        try:
            return await implementation(self, args)
        except AgentsDurableError as exc:
            return failure_from_error(exc)

    async def _instance(self, instance_id: str) -> Instance:
        return await self._scope.get(instance_id)

    # -- the functions a model calls ---------------------------------------------------------

    async def check_plan(self, source: str) -> PlanChecked | ToolFailure:
        """Check a plan without storing it.

        Returns ok with the plan's description and outline (its steps), or error
        "invalid_plan" with diagnostics: each has a code, line, column, message and a hint
        saying how to fix it. Fix every diagnostic and check again before submit_plan.
        """
        return cast("PlanChecked | ToolFailure",
                    await self.call("check_plan", {"source": source}))

    async def submit_plan(self, name: str, source: str) -> PlanSubmitted | ToolFailure:
        """Store a plan under a name, so start_plan can run it.

        The plan is checked first (error "invalid_plan" with diagnostics if it has
        mistakes). New source under an existing name becomes the next version; identical
        source returns the version already stored. Running instances keep the version
        they started with.
        """
        return cast("PlanSubmitted | ToolFailure",
                    await self.call("submit_plan", {"name": name, "source": source}))

    async def start_plan(self, name: str, params: dict[str, Any] | None = None,
                         id: str | None = None) -> InstanceView | ToolFailure:
        """Start a new instance of one of your plans (its latest version).

        params becomes event.payload in the plan. Returns the new instance's id and
        status. Errors: "plan_not_found" (submit it first), "already_exists" (pick another
        id), "invalid_argument", "limit_exceeded".
        """
        return cast("InstanceView | ToolFailure", await self.call(
            "start_plan", {"name": name, "params": params, "id": id}))

    async def plan_status(self, instance_id: str,
                          wait_seconds: float = 0) -> InstanceView | ToolFailure:
        """Show where one of your instances stands: status, output or error, and its steps.

        Statuses: queued, running, waiting (sleeping or waiting for an event), paused,
        complete (output is the plan's return value), errored (error says why), terminated.
        With wait_seconds, waits up to that long for the instance to finish first.
        """
        return cast("InstanceView | ToolFailure", await self.call(
            "plan_status", {"instance_id": instance_id, "wait_seconds": wait_seconds}))

    async def plan_history(self, instance_id: str) -> InstanceHistory | ToolFailure:
        """Show the journal of one of your instances.

        Every step with its attempts, result or error; the events it received; the lines
        the plan printed. Use it to find out why an instance errored or what it is doing.
        """
        return cast("InstanceHistory | ToolFailure",
                    await self.call("plan_history", {"instance_id": instance_id}))

    async def send_plan_event(self, instance_id: str, type: str,
                              payload: dict[str, Any] | None = None
                              ) -> EventSent | ToolFailure:
        """Send an event to one of your instances.

        A step.wait_for_event with the same type receives it (as {"type", "payload",
        "timestamp"}); an event sent before the plan waits for it is kept until it does.
        Error "not_active" if the instance already finished.
        """
        return cast("EventSent | ToolFailure", await self.call(
            "send_plan_event", {"instance_id": instance_id, "type": type, "payload": payload}))

    async def list_plans(self) -> PlanListing | ToolFailure:
        """List your plans: each name with its latest version, hash and description."""
        return cast("PlanListing | ToolFailure", await self.call("list_plans", {}))

    async def list_instances(self, status: str | None = None
                             ) -> InstanceListing | ToolFailure:
        """List your instances, newest first (at most 50), optionally only one status."""
        return cast("InstanceListing | ToolFailure",
                    await self.call("list_instances", {"status": status}))

    async def upgrade_instances(self, plan: str, version: int | None = None,
                                instance_ids: list[str] | None = None,
                                dry_run: bool = False) -> UpgradesDone | ToolFailure:
        """Move your running instances of a plan to a newer version you submitted.

        Use it after fixing a bug: submit_plan the fix, then upgrade_instances. Each
        instance is first replayed against the new version without running anything;
        only an instance whose saved steps the new code asks for again, same names in
        the same order, moves (it then goes on under the new code). The rest stay where
        they are and come back in refused, with the recorded step, the step the new code
        asks for instead and its line. Change code after the saved steps, or add steps
        after them; never rename or reorder steps an instance already ran.
        """
        return cast("UpgradesDone | ToolFailure", await self.call(
            "upgrade_instances", {"plan": plan, "version": version,
                                  "instance_ids": instance_ids, "dry_run": dry_run}))

    # -- implementations (arguments already validated) ---------------------------------------

    async def _check_plan(self, args: CheckPlanInput) -> PlanChecked:
        diagnostics = self._scope.validate_plan(args.source)
        if any(d.severity == "error" for d in diagnostics):
            raise PlanRejected(diagnostics)
        plan = compile_plan(args.source, self._scope.policy, tools=self._scope.tools)
        # not an error yet: the child may be submitted next, or be this plan itself
        unknown = [d.model_copy(update={"severity": "warning"})
                   for d in await self._scope.check_child_plans(plan.outline)]
        return PlanChecked(description=plan.description, outline=list(plan.outline),
                           warnings=[*diagnostics, *unknown])

    async def _submit_plan(self, args: SubmitPlanInput) -> PlanSubmitted:
        version = await self._scope.register_plan(args.name, args.source)
        return PlanSubmitted(name=version.name, version=version.version, hash=version.hash,
                             description=version.description, outline=version.outline)

    async def _start_plan(self, args: StartPlanInput) -> InstanceView:
        instance = await self._scope.create(args.name, args.params, id=args.id)
        return _instance_view(await instance.status())

    async def _plan_status(self, args: PlanStatusInput) -> InstanceView:
        instance = await self._instance(args.instance_id)
        if args.wait_seconds > 0:
            try:
                return _instance_view(await instance.wait(timeout=args.wait_seconds))
            except TimeoutError:
                pass
        return _instance_view(await instance.status())

    async def _plan_history(self, args: PlanHistoryInput) -> InstanceHistory:
        instance = await self._instance(args.instance_id)
        history = await instance.history()
        return InstanceHistory(
            instance_id=history.id, status=history.status.status,
            output=history.status.output, error=history.status.error,
            steps=[_journal_step(s) for s in history.steps],
            events=[EventView(type=e.type, payload=e.payload, timestamp=e.timestamp,
                              consumed=e.consumed_by_step is not None)
                    for e in history.events],
            logs=[LogView(at=entry.at, line=entry.line) for entry in history.logs])

    async def _send_plan_event(self, args: SendPlanEventInput) -> EventSent:
        instance = await self._instance(args.instance_id)
        await instance.send_event(args.type, args.payload)
        status = await instance.status()
        return EventSent(instance_id=instance.id, type=args.type, status=status.status)

    async def _list_plans(self, args: ListPlansInput) -> PlanListing:
        latest = {version.name: version for version in await self._scope.list_plans()}
        return PlanListing(plans=[
            PlanSummary(name=v.name, latest_version=v.version, hash=v.hash,
                        description=v.description, created=v.created)
            for _, v in sorted(latest.items())])

    async def _list_instances(self, args: ListInstancesInput) -> InstanceListing:
        page = await self._scope.list(status=args.status, limit=LIST_LIMIT)
        return InstanceListing(
            instances=[InstanceSummary(instance_id=s.id, status=s.status, plan=s.plan,
                                       version=s.version, created=s.created,
                                       updated=s.updated) for s in page.items],
            more=page.next_cursor is not None)

    async def _upgrade_instances(self, args: UpgradeInstancesInput) -> UpgradesDone:
        target = await self._scope.get_plan(args.plan, version=args.version)
        ids = (list(args.instance_ids) if args.instance_ids is not None
               else [s.id for s in await _active(self._scope, target.name)])
        upgraded: list[str] = []
        refused: list[UpgradeRefusal] = []
        for instance_id in ids:
            instance = await self._instance(instance_id)
            if args.dry_run:
                [check] = await self._scope.verify_upgrade([instance], to=target)
            else:
                try:
                    check = await instance.upgrade(to=target)
                except UpgradeRefused as error:
                    [check] = error.checks
            if check.compatible:
                upgraded.append(instance_id)
            else:
                refused.append(_refusal(check))
        return UpgradesDone(plan=target.name, version=target.version, dry_run=args.dry_run,
                            upgraded=upgraded, refused=refused)


async def _active(scope: AgentScope, plan: str) -> list[InstanceStatus]:
    found = []
    for status in ("queued", "waiting", "paused", "running"):
        cursor = None
        while True:
            page = await scope.list(status=status, plan=plan, limit=1000, cursor=cursor)
            found += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    return sorted(found, key=lambda s: s.created)


def _step_text(ref: StepRef | None) -> str | None:
    if ref is None:
        return None
    again = f" #{ref.occurrence}" if ref.occurrence > 1 else ""
    return f"{ref.kind} {ref.name!r}{again}"


def _refusal(check: UpgradeCheck) -> UpgradeRefusal:
    divergence = check.divergence
    if divergence is None:
        return UpgradeRefusal(instance_id=check.id, message="not compatible")
    return UpgradeRefusal(instance_id=check.id, message=divergence.message,
                          recorded=_step_text(divergence.recorded),
                          requested=_step_text(divergence.requested), line=divergence.line,
                          source=divergence.source)


_Implementation = Callable[[PlanToolkit, Any], Awaitable[ToolResult]]

#: Every toolkit function: its input model and implementation, in presentation order.
_FUNCTIONS: dict[str, tuple[type[BaseModel], _Implementation]] = {
    "check_plan": (CheckPlanInput, PlanToolkit._check_plan),
    "submit_plan": (SubmitPlanInput, PlanToolkit._submit_plan),
    "start_plan": (StartPlanInput, PlanToolkit._start_plan),
    "plan_status": (PlanStatusInput, PlanToolkit._plan_status),
    "plan_history": (PlanHistoryInput, PlanToolkit._plan_history),
    "send_plan_event": (SendPlanEventInput, PlanToolkit._send_plan_event),
    "list_plans": (ListPlansInput, PlanToolkit._list_plans),
    "list_instances": (ListInstancesInput, PlanToolkit._list_instances),
    "upgrade_instances": (UpgradeInstancesInput, PlanToolkit._upgrade_instances),
}
