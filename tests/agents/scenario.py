"""The one scenario every framework adapter runs, with a scripted model.

The model submits a plan with a mistake (``import time``), reads the diagnostics in the
tool result (ADP201), checks and submits the corrected plan, starts an instance, sends
it the event it waits for, and reads the completed status. :class:`ScriptedAuthor` is the
model's side, independent of any framework: each framework's test model turns the
framework's messages into "the last tool result, as JSON" and the author's answer into
the framework's tool call or final text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agents_durable.agents import PlanToolkit

AGENT_ID = "greeter"
TOOL_NAME = "greetings.compose"
PLAN_NAME = "greet-guest"
INSTANCE_ID = "greet-ada"
PARAMS = {"name": "Ada"}
EVENT_TYPE = "guest-arrived"
EVENT_PAYLOAD = {"door": "front"}
USER_PROMPT = ("Write a plan that greets a guest by name when the guest-arrived event "
               "says which door they came in through, then run it for Ada.")


def compose_greeting(name: str, door: str) -> str:
    """Compose the welcome line for a guest arriving at a door."""
    return f"Welcome, {name}! Please come in through the {door} door."


FLAWED_PLAN = '''"""Greet a guest by name as soon as they arrive."""

import time


async def run(event, step):
    arrival = await step.wait_for_event("guest arrives", type="guest-arrived",
                                        timeout="1 hour")
    greeting = await step.do("compose greeting", lambda: tools.greetings.compose(
        event.payload["name"], arrival["payload"]["door"]))
    return {"guest": event.payload["name"], "greeting": greeting, "at": time.time()}
'''

FIXED_PLAN = '''"""Greet a guest by name as soon as they arrive."""


async def run(event, step):
    arrival = await step.wait_for_event("guest arrives", type="guest-arrived",
                                        timeout="1 hour")
    greeting = await step.do("compose greeting", lambda: tools.greetings.compose(
        event.payload["name"], arrival["payload"]["door"]))
    return {"guest": event.payload["name"], "greeting": greeting}
'''

EXPECTED_OUTPUT = {"guest": "Ada",
                   "greeting": "Welcome, Ada! Please come in through the front door."}
FINAL_ANSWER = "Done: " + json.dumps(EXPECTED_OUTPUT, sort_keys=True)


@dataclass(frozen=True)
class ToolCall:
    """A tool call the scripted model makes."""

    name: str
    arguments: dict[str, Any]


def diagnostic_codes(result: dict[str, Any]) -> list[str]:
    return [d["code"] for d in result.get("diagnostics", [])]


@dataclass
class ScriptedAuthor:
    """The model: picks the next tool call from the last tool result it was shown.

    It only moves on when a result says what it should; anything unexpected ends the
    conversation with a "Stopped" answer, so a broken adapter fails the test visibly.
    """

    results: list[dict[str, Any]] = field(default_factory=list)

    def next_action(self, last_result: dict[str, Any] | None) -> ToolCall | str:
        if last_result is not None:
            self.results.append(last_result)
        turn = len(self.results)
        if turn == 0:
            return ToolCall("submit_plan", {"name": PLAN_NAME, "source": FLAWED_PLAN})
        assert last_result is not None
        if turn == 1:
            if last_result.get("error") != "invalid_plan" or "ADP201" not in diagnostic_codes(
                    last_result):
                return self._stop(last_result)
            return ToolCall("check_plan", {"source": FIXED_PLAN})
        if not last_result.get("ok"):
            return self._stop(last_result)
        if turn == 2:
            return ToolCall("submit_plan", {"name": PLAN_NAME, "source": FIXED_PLAN})
        if turn == 3:
            return ToolCall("start_plan", {"name": PLAN_NAME, "params": PARAMS,
                                           "id": INSTANCE_ID})
        if turn == 4:
            return ToolCall("send_plan_event", {"instance_id": last_result["instance_id"],
                                                "type": EVENT_TYPE, "payload": EVENT_PAYLOAD})
        if turn == 5:
            return ToolCall("plan_status", {"instance_id": INSTANCE_ID, "wait_seconds": 20})
        if last_result.get("status") != "complete":
            return self._stop(last_result)
        return "Done: " + json.dumps(last_result["output"], sort_keys=True)

    def _stop(self, result: dict[str, Any]) -> str:
        return f"Stopped at turn {len(self.results)}: {json.dumps(result)}"

    @property
    def codes_seen(self) -> list[str]:
        """Every diagnostic code in the tool results the model was shown."""
        return [code for result in self.results for code in diagnostic_codes(result)]


async def assert_scenario_completed(author: ScriptedAuthor, answer: str,
                                    toolkit: PlanToolkit) -> None:
    """What a user checks after the agent run: the answer, what the model saw, the instance."""
    assert answer == FINAL_ANSWER
    assert author.results[0]["ok"] is False
    assert "ADP201" in diagnostic_codes(author.results[0])  # the model saw the diagnostic
    assert [r["ok"] for r in author.results] == [False, True, True, True, True, True]
    instance = await toolkit.scope.get(INSTANCE_ID)
    status = await instance.status()
    assert status.status == "complete"
    assert status.output == EXPECTED_OUTPUT
    assert status.version == 1  # the flawed plan was never stored
