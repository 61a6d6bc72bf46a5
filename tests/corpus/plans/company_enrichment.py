"""Enrich a list of company domains for the CRM, all companies in parallel.

For every domain, concurrently: look up company facts (flaky provider, default retries;
unknown domains fail permanently), read its tech stack, derive a segment from the
employee count and upsert the record into the CRM once, with an idempotency key.
A domain whose lookup or tech stack ultimately fails is skipped; the others are saved.

Params: {"domains": [str, ...]}
Events: none
Tools: enrich.lookup, enrich.tech_stack, crm.upsert_company
"""


def segment_for(employees):
    if employees >= 1000:
        return "enterprise"
    if employees >= 100:
        return "mid-market"
    return "smb"


async def run(event, step):
    domains = list(event.payload.get("domains", []))

    async def enrich_one(domain):
        try:
            facts = await step.do(f"lookup {domain}", lambda: tools.enrich.lookup(domain))
        except StepFailed as err:
            print(f"lookup of {domain} failed: {err.cause}: {err.message}")
            return None
        try:
            tech = await step.do(f"tech stack {domain}",
                                 lambda: tools.enrich.tech_stack(domain))
        except StepFailed as err:
            print(f"tech stack of {domain} failed: {err.cause}: {err.message}")
            return None

        record = {
            "name": facts["name"],
            "employees": facts["employees"],
            "segment": segment_for(facts["employees"]),
            "tech": tech,
        }
        await step.do(f"upsert {domain}", lambda ctx: tools.crm.upsert_company(
            domain, record, ctx.idempotency_key))
        return record["segment"]

    results = await step.gather(*[enrich_one(d) for d in domains])

    enriched = []
    skipped = []
    segments = {}
    for domain, segment in zip(domains, results):
        if segment is None:
            skipped.append(domain)
        else:
            enriched.append(domain)
            segments[segment] = segments.get(segment, 0) + 1

    return {"enriched": enriched, "skipped": skipped, "segments": segments}
