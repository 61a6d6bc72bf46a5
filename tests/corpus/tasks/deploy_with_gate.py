"""Hard-medium: staging, a human approval gate, production, smoke test, rollback."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Release a version with an approval gate and automatic rollback.

1. Remember what production runs now: `deploy.current(env)` with env "production"
   returns {"version": str}.
2. Deploy the new `version` to "staging" with `deploy.ship(env, version,
   idempotency_key)` and smoke-test it with `deploy.smoke(env)`, which returns
   {"ok": bool, "failures": [str]}. If staging smoke fails, stop with status
   "staging_failed".
3. Ask for approval with `chat.post(channel, text)` in "#releases", then wait up to
   4 hours for an event "deploy-approval" with payload {"version": str, "approved":
   bool, "by": str}; only events for this version count. Not approved, or no answer in
   time: stop with status "not_approved".
4. Deploy the version to "production" and smoke-test production. If the smoke test
   fails, roll back by shipping the previously running version to "production" (same
   `deploy.ship`) and finish with status "rolled_back"; otherwise "released".

Params (`event.payload`): {"version": "v42"}.

Return: {"version": str, "status": "released" | "rolled_back" | "not_approved" |
"staging_failed", "previous": str (the version production ran before), "approved_by":
str or null}.
"""

PARAMS = {"version": "v42"}
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 hour"),
    ("event", "deploy-approval", {"version": "v41", "approved": True, "by": "old"}),
    ("event", "deploy-approval", {"version": "v42", "approved": True, "by": "rosa"}),
    ("advance", "10 minutes"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(ships=[], posts=[])

    def deploy_current(env: str) -> dict:
        """The version an environment runs now. Returns {"version": str}."""
        rec.call("deploy.current", env)
        return {"version": "v41"}

    async def deploy_ship(env: str, version: str, idempotency_key: str = "") -> dict:
        """Deploy `version` to `env` ("staging" or "production"). Returns {"ok": True}."""
        rec.call("deploy.ship", env, version)
        rec.once("ships", idempotency_key, [env, version])
        return {"ok": True}

    def deploy_smoke(env: str) -> dict:
        """Run the smoke tests against an environment.

        Returns {"ok": bool, "failures": [str]}.
        """
        rec.call("deploy.smoke", env)
        if env == "production":
            return {"ok": False, "failures": ["checkout returns 500"]}
        return {"ok": True, "failures": []}

    def chat_post(channel: str, text: str) -> dict:
        """Post a message to a chat channel. Returns {"ts": str}."""
        rec.call("chat.post", channel)
        rec.add("posts", channel)
        return {"ts": rec.next_id("ts")}

    return {"deploy.current": deploy_current, "deploy.ship": deploy_ship,
            "deploy.smoke": deploy_smoke, "chat.post": chat_post}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"version": "v42", "status": "rolled_back", "previous": "v41",
                      "approved_by": "rosa"}, output
    assert state["ships"] == [["staging", "v42"], ["production", "v42"],
                              ["production", "v41"]], state["ships"]
    assert state["posts"] == ["#releases"]
