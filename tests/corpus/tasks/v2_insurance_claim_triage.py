"""Hard: per-claim helpers in parallel, retries then StepFailed fallback, Decimal payouts."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Triage a batch of insurance claims. Handle the claims in parallel; for each claim:

1. Load it with `claims.get(claim_id)` -> {"policy_id": str, "amount": str (decimal),
   "type": str} and its policy with `policies.get(policy_id)` -> {"active": bool,
   "deductible": str, "limit": str}.
2. Inactive policy: deny with `claims.deny(claim_id, reason, idempotency_key)`, reason
   "policy-inactive". Stop there for this claim.
3. Get a fraud score with `fraud.score(claim_id)` -> float in [0, 1]. The fraud service
   is flaky: retry it 2 times, 1 second apart (3 calls at most). If it still fails,
   route the claim to an adjuster with `claims.refer(claim_id, queue, idempotency_key)`,
   queue "adjuster", route "manual".
4. Score >= 0.8: refer to queue "siu", route "investigate".
5. payout = amount - deductible, capped at the policy limit (exact decimals). payout <= 0:
   deny with reason "below-deductible", route "denied".
6. amount <= 1000.00 and score < 0.3: pay once with `payments.pay(claim_id, amount,
   idempotency_key)` (the payout, 2 decimals), route "auto_paid".
7. Anything else: refer to queue "adjuster", route "manual".

Every claim gets exactly one action (deny, refer or pay).

Params (`event.payload`): {"claim_ids": ["CL1", "CL2", "CL3", "CL4", "CL5", "CL6",
"CL7"]}.
No events arrive.

Return: {"results": [{"claim_id": str, "route": "auto_paid" | "manual" | "investigate" |
"denied", "payout": str | null (2 decimals, only for auto_paid)}, ...] (in input order),
"total_paid": str (2 decimals)}.
"""

PARAMS = {"claim_ids": ["CL1", "CL2", "CL3", "CL4", "CL5", "CL6", "CL7"]}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute")]
CLAIMS = {"CL1": ("P1", "850.00", 0.1), "CL2": ("P2", "12000.00", 0.2),
          "CL3": ("P3", "300.00", 0.0), "CL4": ("P1", "200.00", 0.05),
          "CL5": ("P4", "999.99", None), "CL6": ("P1", "640.50", 0.85),
          "CL7": ("P4", "1000.00", 0.29)}
POLICIES = {"P1": (True, "250.00", "5000.00"), "P2": (True, "500.00", "10000.00"),
            "P3": (False, "100.00", "1000.00"), "P4": (True, "0.00", "500.00")}


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(actions=[])

    async def claims_get(claim_id: str) -> dict:
        """A claim: {"policy_id": str, "amount": str, "type": str}."""
        rec.call("claims.get", claim_id)
        policy, amount, _ = CLAIMS[claim_id]
        return {"policy_id": policy, "amount": amount, "type": "property"}

    async def policies_get(policy_id: str) -> dict:
        """A policy: {"active": bool, "deductible": str, "limit": str}."""
        rec.call("policies.get", policy_id)
        active, deductible, limit = POLICIES[policy_id]
        return {"active": active, "deductible": deductible, "limit": limit}

    def fraud_score(claim_id: str) -> float:
        """Fraud probability of a claim in [0, 1].

        Raises ConnectionError when the fraud service is unavailable.
        """
        rec.call("fraud.score", claim_id)
        score = CLAIMS[claim_id][2]
        if score is None:
            raise ConnectionError("fraud service unavailable")
        return score

    def claims_deny(claim_id: str, reason: str, idempotency_key: str = "") -> dict:
        """Deny a claim with a reason. Returns {"ok": True}."""
        rec.call("claims.deny", claim_id)
        rec.once("actions", idempotency_key, (claim_id, "deny", reason))
        return {"ok": True}

    def claims_refer(claim_id: str, queue: str, idempotency_key: str = "") -> dict:
        """Send a claim to a work queue ("adjuster" or "siu"). Returns {"ok": True}."""
        rec.call("claims.refer", claim_id)
        rec.once("actions", idempotency_key, (claim_id, "refer", queue))
        return {"ok": True}

    def payments_pay(claim_id: str, amount: str, idempotency_key: str = "") -> dict:
        """Pay a claim. Returns {"payment_id": str}."""
        rec.call("payments.pay", claim_id)
        rec.once("actions", idempotency_key, (claim_id, "pay", amount))
        return {"payment_id": f"pay-{claim_id}"}

    return {"claims.get": claims_get, "policies.get": policies_get,
            "fraud.score": fraud_score, "claims.deny": claims_deny,
            "claims.refer": claims_refer, "payments.pay": payments_pay}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    routes = [("CL1", "auto_paid", "600.00"), ("CL2", "manual", None),
              ("CL3", "denied", None), ("CL4", "denied", None), ("CL5", "manual", None),
              ("CL6", "investigate", None), ("CL7", "auto_paid", "500.00")]
    assert output == {"results": [{"claim_id": c, "route": r, "payout": p}
                                  for c, r, p in routes], "total_paid": "1100.00"}, output
    assert sorted(state["actions"]) == [
        ("CL1", "pay", "600.00"), ("CL2", "refer", "adjuster"),
        ("CL3", "deny", "policy-inactive"), ("CL4", "deny", "below-deductible"),
        ("CL5", "refer", "adjuster"), ("CL6", "refer", "siu"),
        ("CL7", "pay", "500.00")], state["actions"]
    fraud_calls = [c[1] for c in state["calls"] if c[0] == "fraud.score"]
    assert fraud_calls.count("CL5") == 3, fraud_calls
