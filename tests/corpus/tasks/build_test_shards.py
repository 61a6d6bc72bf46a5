"""Medium: build, run 4 test shards concurrently, deploy only if all pass."""

from __future__ import annotations

from typing import Any

import anyio

from tests.corpus.tasks._kit import Recorder

TASK = """\
Run the CI pipeline for a commit.

1. Build with `ci.build(commit)`, which returns {"artifact": str}.
2. Run the test suite in 4 shards concurrently (shards 0, 1, 2, 3 of 4) with
   `ci.test_shard(artifact, shard, total)`; each returns {"shard": int, "passed": int,
   "failed": int, "failures": [test name, ...]}. Each shard runs once.
3. If no test failed, deploy to staging with `ci.deploy(artifact, env, idempotency_key)`
   with env "staging". If any failed, do not deploy.

Params (`event.payload`): {"commit": "9f3c2ab"}.
No events arrive.

Return: {"commit": str, "artifact": str, "passed": int (total over shards), "failed":
int, "failed_tests": [str, ...] (all failures, sorted alphabetically), "deployed": bool}.
"""

PARAMS = {"commit": "9f3c2ab"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
SHARDS = {0: (120, []), 1: (98, ["test_refund_rounding"]), 2: (143, []),
          3: (77, ["test_login_lockout", "test_csv_export"])}


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(deploys=[], shards=[])

    async def ci_build(commit: str) -> dict:
        """Build a commit. Returns {"artifact": str}."""
        rec.call("ci.build", commit)
        await anyio.sleep(0.01)
        return {"artifact": f"app-{commit}.tar.gz"}

    async def ci_test_shard(artifact: str, shard: int, total: int) -> dict:
        """Run shard `shard` (0-based) of `total` test shards against a build.

        Returns {"shard": int, "passed": int, "failed": int, "failures": [str]}.
        """
        rec.call("ci.test_shard", shard, total)
        rec.add("shards", shard)
        await anyio.sleep(0.01)
        passed, failures = SHARDS[shard]
        return {"shard": shard, "passed": passed, "failed": len(failures),
                "failures": list(failures)}

    def ci_deploy(artifact: str, env: str, idempotency_key: str = "") -> dict:
        """Deploy a build to an environment. Returns {"deployment": str}."""
        rec.call("ci.deploy", env)
        rec.once("deploys", idempotency_key, env)
        return {"deployment": "D-1"}

    return {"ci.build": ci_build, "ci.test_shard": ci_test_shard,
            "ci.deploy": ci_deploy}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"commit": "9f3c2ab", "artifact": "app-9f3c2ab.tar.gz", "passed": 438,
                      "failed": 3, "failed_tests": ["test_csv_export", "test_login_lockout",
                                                    "test_refund_rounding"],
                      "deployed": False}, output
    assert sorted(state["shards"]) == [0, 1, 2, 3], state["shards"]
    assert state["deploys"] == []
