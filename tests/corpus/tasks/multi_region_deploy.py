"""Hard: sequential region deploys with health checks; reverse-order rollback on failure."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Deploy a version region by region, rolling everything back if a region gets sick.

For each region in `regions`, in order:
1. Deploy with `deploy.region(region, version, idempotency_key)`.
2. Check its health twice with `health.region(region)` -> {"healthy": bool}: once 5
   minutes after the deploy and once 5 minutes after that.
3. If either check is unhealthy, roll back every region deployed so far, including this
   one, in reverse order of deployment, with `deploy.rollback(region, idempotency_key)`
   (once each), and stop. Regions after the failing one are not deployed.

Params (`event.payload`): {"version": "2.8.0", "regions": ["us-east", "eu-west",
"ap-south"]}.
No events arrive.

Return: {"version": str, "deployed": [region, ...] (regions deployed, in order),
"failed_region": str or null, "rolled_back": [region, ...] (in rollback order)}.
"""

PARAMS = {"version": "2.8.0", "regions": ["us-east", "eu-west", "ap-south"]}
SCENARIO: list[tuple[Any, ...]] = [("advance", "12 minutes"), ("advance", "1 hour")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(deploys=[], rollbacks=[])

    def deploy_region(region: str, version: str, idempotency_key: str = "") -> dict:
        """Deploy a version to one region. Returns {"ok": True}."""
        rec.call("deploy.region", region)
        rec.once("deploys", idempotency_key, region)
        return {"ok": True}

    def deploy_rollback(region: str, idempotency_key: str = "") -> dict:
        """Roll a region back to its previous version. Returns {"ok": True}."""
        rec.call("deploy.rollback", region)
        rec.once("rollbacks", idempotency_key, region)
        return {"ok": True}

    def health_region(region: str) -> dict:
        """Health of a region right now. Returns {"healthy": bool}."""
        n = rec.call("health.region", region)
        return {"healthy": not (region == "eu-west" and n == 2)}

    return {"deploy.region": deploy_region, "deploy.rollback": deploy_rollback,
            "health.region": health_region}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"version": "2.8.0", "deployed": ["us-east", "eu-west"],
                      "failed_region": "eu-west",
                      "rolled_back": ["eu-west", "us-east"]}, output
    assert state["deploys"] == ["us-east", "eu-west"], state["deploys"]
    assert state["rollbacks"] == ["eu-west", "us-east"], state["rollbacks"]
