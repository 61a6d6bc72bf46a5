"""Hard: build with retries, parallel shards, canary with timed checks, rollback."""

from __future__ import annotations

from typing import Any

import anyio

from tests.corpus.tasks._kit import Recorder

TASK = """\
Ship a commit through build, tests and a canary release.

1. Build with `ci.build(commit)` -> {"image": str}. The build farm sometimes fails
   transiently; the default retry policy is fine.
2. Run 3 test shards concurrently with `ci.test_shard(image, shard)` for shards 0, 1, 2;
   each returns {"ok": bool}. If any shard is not ok, stop with status "tests_failed".
3. Start a canary with `release.canary(image, percent, idempotency_key)` at 10 percent.
4. Check the canary 3 times, 10 minutes apart (the first check 10 minutes after the
   canary starts), with `release.canary_errors(image)` -> {"error_rate": str (decimal
   percentage)}. If any check is above the `max_error_rate` param (decimal string;
   compare as decimals), roll back with `release.rollback(image, idempotency_key)` and
   stop with status "rolled_back" (no more checks).
5. If all 3 checks pass, promote with `release.promote(image, idempotency_key)`: status
   "promoted".

Params (`event.payload`): {"commit": "c0ffee1", "max_error_rate": "1.5"}.
No events arrive.

Return: {"commit": str, "image": str, "status": "tests_failed" | "rolled_back" |
"promoted", "checks": [str, ...] (the error rates read, in order)}.
"""

PARAMS = {"commit": "c0ffee1", "max_error_rate": "1.5"}
RATES = ["0.2", "1.5", "2.75"]


def _canary_only(state: dict[str, Any]) -> None:
    assert state["releases"] == [["canary", 10]], state["releases"]


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "1 minute"), ("advance", "15 minutes"), ("probe", _canary_only),
    ("advance", "30 minutes"), ("advance", "1 hour"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(releases=[], shards=[])

    async def ci_build(commit: str) -> dict:
        """Build a container image. Returns {"image": str}. Fails transiently at times."""
        n = rec.call("ci.build", commit)
        await anyio.sleep(0.01)
        if n == 1:
            raise RuntimeError("build agent lost")
        return {"image": f"registry.example/app:{commit}"}

    async def ci_test_shard(image: str, shard: int) -> dict:
        """Run one of the 3 test shards (0, 1, 2) against an image. Returns {"ok": bool}."""
        rec.call("ci.test_shard", shard)
        rec.add("shards", shard)
        await anyio.sleep(0.01)
        return {"ok": True}

    def release_canary(image: str, percent: int, idempotency_key: str = "") -> dict:
        """Route `percent` percent of traffic to an image. Returns {"ok": True}."""
        rec.call("release.canary", percent)
        rec.once("releases", idempotency_key, ["canary", percent])
        return {"ok": True}

    def release_canary_errors(image: str) -> dict:
        """Error rate of the canary so far. Returns {"error_rate": str (percent)}."""
        n = rec.call("release.canary_errors", image)
        return {"error_rate": RATES[min(n, 3) - 1]}

    def release_rollback(image: str, idempotency_key: str = "") -> dict:
        """Send all traffic back to the previous image. Returns {"ok": True}."""
        rec.call("release.rollback", image)
        rec.once("releases", idempotency_key, ["rollback"])
        return {"ok": True}

    def release_promote(image: str, idempotency_key: str = "") -> dict:
        """Send all traffic to the image. Returns {"ok": True}."""
        rec.call("release.promote", image)
        rec.once("releases", idempotency_key, ["promote"])
        return {"ok": True}

    return {"ci.build": ci_build, "ci.test_shard": ci_test_shard,
            "release.canary": release_canary, "release.canary_errors": release_canary_errors,
            "release.rollback": release_rollback, "release.promote": release_promote}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"commit": "c0ffee1", "image": "registry.example/app:c0ffee1",
                      "status": "rolled_back", "checks": RATES}, output
    assert state["releases"] == [["canary", 10], ["rollback"]], state["releases"]
    assert sorted(state["shards"]) == [0, 1, 2], state["shards"]
