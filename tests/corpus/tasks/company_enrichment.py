"""Hard: per-item multi-step helpers in parallel with step.gather; retries; skips."""

from __future__ import annotations

from typing import Any

import anyio

from agents_durable import NonRetryableError
from tests.corpus.tasks._kit import Recorder

TASK = """\
Enrich a list of company domains for the CRM, all companies in parallel.

For each domain in `domains`, concurrently:
1. `enrich.lookup(domain)` returns {"name": str, "employees": int}. The provider is
   flaky (transient errors: retry with the default policy) and answers a permanent
   "not found" error for unknown domains.
2. `enrich.tech_stack(domain)` returns a list of technology names.
3. Segment: "enterprise" if employees >= 1000, "mid-market" if >= 100, else "smb".
4. Save with `crm.upsert_company(domain, record, idempotency_key)` where record is
   {"name": str, "employees": int, "segment": str, "tech": [str, ...] (as returned)}.
A domain whose lookup or tech stack ultimately fails is skipped (no upsert); the others
must still be saved. Each company is saved exactly once.

Params (`event.payload`): {"domains": ["acme.io", "globex.com", "unknown.example",
"initech.net", "umbrella.org"]}.
No events arrive.

Return: {"enriched": [domain, ...] (in input order), "skipped": [domain, ...] (in input
order), "segments": {segment: count} (only segments that occur)}.
"""

PARAMS = {"domains": ["acme.io", "globex.com", "unknown.example", "initech.net",
                      "umbrella.org"]}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute"), ("advance", "10 minutes")]
COMPANIES = {"acme.io": ("Acme", 120), "globex.com": ("Globex", 5400),
             "initech.net": ("Initech", 45), "umbrella.org": ("Umbrella", 1000)}


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(upserts=[])

    async def enrich_lookup(domain: str) -> dict:
        """Company facts for a domain. Returns {"name": str, "employees": int}.

        Raises a transient error now and then (retry), and a non-retryable "not found"
        error for a domain the provider does not know.
        """
        n = rec.call("enrich.lookup", domain)
        await anyio.sleep(0.01)
        if domain not in COMPANIES:
            raise NonRetryableError(f"not found: {domain}")
        if domain == "globex.com" and n <= 2:
            raise ConnectionError("provider overloaded")
        name, employees = COMPANIES[domain]
        return {"name": name, "employees": employees}

    async def enrich_tech_stack(domain: str) -> list:
        """Technologies seen on a company's website: a list of str."""
        rec.call("enrich.tech_stack", domain)
        await anyio.sleep(0.01)
        return sorted({"acme.io": ["react", "aws"], "globex.com": ["java", "oracle"],
                       "initech.net": ["php"], "umbrella.org": ["go", "gcp", "k8s"]}
                      .get(domain, []))

    def crm_upsert_company(domain: str, record: dict, idempotency_key: str = "") -> dict:
        """Create or update a company in the CRM. Returns {"id": str}."""
        rec.call("crm.upsert_company", domain)
        rec.once("upserts", idempotency_key, {"domain": domain, **record})
        return {"id": f"co-{domain}"}

    return {"enrich.lookup": enrich_lookup, "enrich.tech_stack": enrich_tech_stack,
            "crm.upsert_company": crm_upsert_company}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"enriched": ["acme.io", "globex.com", "initech.net", "umbrella.org"],
                      "skipped": ["unknown.example"],
                      "segments": {"mid-market": 1, "enterprise": 2, "smb": 1}}, output
    by_domain = {u["domain"]: u for u in state["upserts"]}
    assert len(state["upserts"]) == 4 and set(by_domain) == set(COMPANIES), state["upserts"]
    assert by_domain["umbrella.org"] == {"domain": "umbrella.org", "name": "Umbrella",
                                         "employees": 1000, "segment": "enterprise",
                                         "tech": ["gcp", "go", "k8s"]}, by_domain
    assert by_domain["acme.io"]["segment"] == "mid-market"
