"""Child plans: ``await step.run_plan(name, params, *, id=None, on_parent_end=...)``.

The step starts an instance of one of the same agent's plans and returns its output.

- **Pinned when the step first runs.** The first time, the plan name resolves to its
  latest version and the journal row records the child's id, plan hash and params
  (state ``waiting``) before the child exists; every later replay uses that row.
- **One child, never two.** The child's id is deterministic (the plan may give one, else
  it derives from the parent's id, the branch scope, the step name and its occurrence,
  like an idempotency key), and the store creates it idempotently: a replay after a crash
  between the row and the child finds the child already there, or creates it then.
- **The parent waits durably.** When the child ends, the store delivers a
  ``CHILD_EVENT`` to the parent in the same transaction (and wakes it); the step consumes
  that event like ``wait_for_event`` does and records the child's output (``done``), or
  ``StepFailed`` with the child's error (``failed``), so replay never asks the child
  again. Nothing of the parent stays in memory while it waits.
- **Ends propagate down.** When a parent ends (terminated, errored, completed) its active
  children with ``on_parent_end="terminate"`` (the default) are terminated, recursively;
  ``"keep"`` children outlive it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from agents_durable.errors import InstanceExists, PlanRuntimeError, StepFailed
from agents_durable.store._records import CHILD_EVENT, NewInstance, StepRecord

if TYPE_CHECKING:
    from agents_durable.engine._activation import Activation
    from agents_durable.engine._facades import StepCall

__all__ = ["child_id", "run_child"]

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$")
_POLICIES = ("terminate", "keep")


def child_id(parent: str, scope: str, name: str, occurrence: int) -> str:
    """The deterministic id of a child no id was given for: ``<parent>-<digest>``."""
    digest = hashlib.sha256(json.dumps([parent, scope, name, occurrence]).encode())
    return f"{parent[:83]}-{digest.hexdigest()[:16]}"


async def run_child(activation: Activation, call: StepCall,
                    recorded: StepRecord | None) -> Any:
    record = activation.record
    if recorded is None:
        config = await _first_run(activation, call)
        recorded = activation._new_record(call, "waiting", config=json.dumps(config),
                                          started_at=activation.clock.now())
        await activation._save(recorded)
    else:
        if recorded.state == "done":
            return activation._decode(recorded.result)
        if recorded.state == "failed":
            from agents_durable.engine._activation import _step_failed

            raise _step_failed(activation._decode(recorded.error, {}), call._name)
        config = activation._decode(recorded.config, {})
    child = str(config["id"])
    event = activation._take_event(CHILD_EVENT, {"id": child})
    if event is None:
        new = NewInstance(agent_id=record.agent_id, id=child, plan_name=str(config["plan"]),
                          plan_version=int(config["version"]), plan_hash=str(config["hash"]),
                          params=str(config["params"]), created_at=activation.clock.now())
        await activation.flush()  # the row naming the child is committed before it exists
        try:
            await activation.engine.start_child(record, new,
                                                keep=config.get("on_parent_end") == "keep")
        except InstanceExists:
            raise activation.fail(PlanRuntimeError(
                f"step.run_plan({call._name!r}) cannot start child {child!r}: another "
                "instance of this agent has that id; give the child another id")) from None
        raise activation._suspend(None)
    activation.events.remove(event)
    ended = activation._decode(event.payload, {})
    now = activation.clock.now()
    values = {name: getattr(recorded, name) for name in StepRecord.__dataclass_fields__}
    values["ended_at"] = now
    if ended.get("status") == "complete":
        output = ended.get("output")
        values.update(state="done", result=json.dumps(output))
        await activation._save(StepRecord(**values), consume_event=event.seq)
        return output
    error = ended.get("error") if isinstance(ended.get("error"), dict) else {}
    status = str(ended.get("status", "errored"))
    cause = str(error.get("name") or ("Terminated" if status == "terminated" else "Error"))
    message = (f"child instance {child!r} was terminated" if status == "terminated"
               else f"child instance {child!r} {status}: {error.get('message', '')}")
    failure = StepFailed(call._name, cause, message, 1)
    values.update(state="failed", error=json.dumps(failure.to_json()))
    await activation._save(StepRecord(**values), consume_event=event.seq)
    raise failure


async def _first_run(activation: Activation, call: StepCall) -> dict[str, Any]:
    """Resolve the plan (pinning its latest version) and the child's id and params."""
    params, given_id, policy = call._args
    record = activation.record
    if policy not in _POLICIES:
        raise PlanRuntimeError(f"step.run_plan on_parent_end= must be 'terminate' or 'keep', "
                               f"not {policy!r}")
    if given_id is not None and (not isinstance(given_id, str) or not _ID.match(given_id)):
        raise PlanRuntimeError("step.run_plan id= must be 1-100 characters from A-Z, a-z, "
                               "0-9, '_' and '-', not starting with '-'")
    text = activation._encode({} if params is None else params,
                              what=f"the params of child plan {call._name!r}")
    version = await activation.engine.latest_plan(record.agent_id, call._name)
    if version is None:
        raise PlanRuntimeError(f"step.run_plan({call._name!r}): this agent has no plan named "
                               f"{call._name!r}; submit it first")
    id = given_id if given_id is not None else child_id(record.id, call._scope, call._name,
                                                        call._occurrence)
    if id == record.id:
        raise PlanRuntimeError("step.run_plan id= names the parent itself; give the child "
                               "another id")
    name, number, plan_hash = version
    return {"plan": name, "version": number, "hash": plan_hash,
            "id": id, "params": text, "on_parent_end": policy}
