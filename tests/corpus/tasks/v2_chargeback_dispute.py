"""Medium: evidence deadline computed from respond_by, late evidence ignored, write-off."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Respond to a card chargeback dispute.

1. Load the dispute with `disputes.get(dispute_id)` -> {"order_id": str, "amount": str
   (decimal), "reason": str, "respond_by": ISO-8601 UTC datetime}.
2. Ask the merchant for evidence with `merchant.request_evidence(order_id, dispute_id,
   idempotency_key)`. The merchant answers with the event "evidence-uploaded", payload
   {"dispute_id": str, "files": [str]}. Wait for it for this dispute until 24 hours
   before `respond_by`; after that, go on without merchant files (evidence arriving
   later is ignored).
3. Collect the order with `orders.get(order_id)` -> {"id": str, "total": str} and the
   delivery proof with `shipping.proof(order_id)` -> {"tracking": str} or null.
4. Submit once with `disputes.submit(dispute_id, evidence, idempotency_key)`, evidence =
   {"order_id": str, "tracking": str | null, "files": [str] (empty without merchant
   files)}.
5. Wait up to 75 days for the event "dispute-resolved", payload {"dispute_id": str,
   "outcome": "won" | "lost"}, for this dispute. Lost: write the amount off once with
   `ledger.write_off(dispute_id, amount, idempotency_key)`. No answer in 75 days:
   outcome "unknown", no write-off.

Params (`event.payload`): {"dispute_id": "dp-73"}.

Return: {"dispute_id": str, "files": [str] (the files submitted), "outcome": "won" |
"lost" | "unknown", "written_off": str | null (the amount, when lost)}.
"""

PARAMS = {"dispute_id": "dp-73"}


def _submitted(count: int) -> Any:
    def probe(state: dict[str, Any]) -> None:
        assert len(state["submitted"]) == count, state["submitted"]
    return probe


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "2 days"),
    ("event", "evidence-uploaded", {"dispute_id": "dp-70", "files": ["other.pdf"]}),
    ("advance", "3 days"), ("probe", _submitted(0)),
    ("advance", "36 hours"), ("probe", _submitted(1)),
    ("event", "evidence-uploaded", {"dispute_id": "dp-73", "files": ["late.pdf"]}),
    ("advance", "10 days"),
    ("event", "dispute-resolved", {"dispute_id": "dp-70", "outcome": "won"}),
    ("event", "dispute-resolved", {"dispute_id": "dp-73", "outcome": "lost"}),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(requests=[], submitted=[], write_offs=[])

    def disputes_get(dispute_id: str) -> dict:
        """A dispute: {"order_id", "amount", "reason", "respond_by" (ISO-8601 UTC)}."""
        rec.call("disputes.get", dispute_id)
        return {"order_id": "ord-5521", "amount": "149.90", "reason": "not received",
                "respond_by": "2026-01-08T00:00:00+00:00"}

    def merchant_request_evidence(order_id: str, dispute_id: str,
                                  idempotency_key: str = "") -> dict:
        """Ask the merchant to upload evidence for a dispute. Returns {"ok": True}."""
        rec.call("merchant.request_evidence", dispute_id)
        rec.once("requests", idempotency_key, dispute_id)
        return {"ok": True}

    def orders_get(order_id: str) -> dict:
        """An order: {"id": str, "total": str}."""
        rec.call("orders.get", order_id)
        return {"id": order_id, "total": "149.90"}

    def shipping_proof(order_id: str) -> dict | None:
        """Proof of delivery {"tracking": str}, or None when there is none."""
        rec.call("shipping.proof", order_id)
        return {"tracking": "1Z999AA10123456784"}

    def disputes_submit(dispute_id: str, evidence: dict, idempotency_key: str = "") -> dict:
        """Submit dispute evidence to the card network. Returns {"ok": True}."""
        rec.call("disputes.submit", dispute_id)
        rec.once("submitted", idempotency_key, dict(evidence))
        return {"ok": True}

    def ledger_write_off(dispute_id: str, amount: str, idempotency_key: str = "") -> dict:
        """Write off a lost dispute's amount. Returns {"entry_id": str}."""
        rec.call("ledger.write_off", dispute_id)
        rec.once("write_offs", idempotency_key, (dispute_id, amount))
        return {"entry_id": "je-1"}

    return {"disputes.get": disputes_get,
            "merchant.request_evidence": merchant_request_evidence,
            "orders.get": orders_get, "shipping.proof": shipping_proof,
            "disputes.submit": disputes_submit, "ledger.write_off": ledger_write_off}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"dispute_id": "dp-73", "files": [], "outcome": "lost",
                      "written_off": "149.90"}, output
    assert state["requests"] == ["dp-73"], state["requests"]
    assert state["submitted"] == [{"order_id": "ord-5521", "tracking": "1Z999AA10123456784",
                                   "files": []}], state["submitted"]
    assert state["write_offs"] == [("dp-73", "149.90")], state["write_offs"]
