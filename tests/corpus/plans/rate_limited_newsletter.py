"""Send a newsletter to a segment in batches of 5, one minute apart.

Load the segment's addresses once, then send them in list order in batches of at most
5 (the provider's rate limit), with a 1 minute pause between two batches. Every batch is
its own step with an idempotency key, so each address gets the newsletter exactly once.

Params: {"segment": str, "subject": str}
Events: none
Tools: audience.list, email.send_batch
"""

from itertools import batched

BATCH_SIZE = 5
PAUSE = "1 minute"


async def run(event, step):
    segment = event.payload["segment"]
    subject = event.payload["subject"]

    recipients = await step.do("load audience", lambda: tools.audience.list(segment))

    batches = [list(b) for b in batched(recipients, BATCH_SIZE)]
    sent = 0
    for i, batch in enumerate(batches, start=1):
        if i > 1:
            await step.sleep(f"pause before batch {i}", PAUSE)
        await step.do(f"send batch {i}", lambda ctx, batch=batch:
                      tools.email.send_batch(batch, subject, ctx.idempotency_key))
        sent += len(batch)

    return {"segment": segment, "sent": sent, "batches": len(batches)}
