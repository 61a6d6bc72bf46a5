"""Erase a user's personal data from every system for a GDPR request.

All systems are erased concurrently, each with up to 3 retries 1 minute apart (a busy
system fails transiently; a retired one fails permanently and is not retried). Systems
that could not be erased go into one ticket in the "privacy" queue. The erasure
certificate is issued once, listing the systems that were erased.

Params: {"user_id": str, "systems": [str, ...]}
Events: none
Tools: privacy.erase, privacy.certificate, tickets.open
"""

ERASE_RETRIES = {"limit": 3, "delay": "1 minute", "backoff": "constant"}
PRIVACY_QUEUE = "privacy"


async def run(event, step):
    user_id = event.payload["user_id"]
    systems = list(event.payload.get("systems") or [])

    async def erase_one(system):
        try:
            result = await step.do(
                f"erase {system}",
                lambda ctx: tools.privacy.erase(system, user_id, ctx.idempotency_key),
                retries=ERASE_RETRIES)
        except StepFailed as err:
            print(f"could not erase {user_id} from {system}: {err.cause}: {err.message}")
            return {"system": system, "erased": False}
        return {"system": system, "erased": True,
                "deleted_records": result.get("deleted_records")}

    outcomes = await step.gather(*[erase_one(system) for system in systems])

    erased = sorted(o["system"] for o in outcomes if o["erased"])
    failed = sorted(o["system"] for o in outcomes if not o["erased"])

    ticket_id = None
    if failed:
        summary = (f"GDPR erasure for user {user_id} could not be completed in: "
                   f"{', '.join(failed)}")
        ticket = await step.do("open privacy ticket",
                               lambda: tools.tickets.open(PRIVACY_QUEUE, summary))
        ticket_id = ticket["ticket_id"]

    certificate = await step.do("issue certificate",
                                lambda: tools.privacy.certificate(user_id, erased))

    return {"user_id": user_id, "erased": erased, "failed": failed, "ticket_id": ticket_id,
            "certificate_id": certificate["certificate_id"]}
