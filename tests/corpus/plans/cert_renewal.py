"""Renew TLS certificates that expire within 30 days of the run's start.

Lists all managed certificates; each one expiring at or before start + 30 days is
renewed (retried up to 2 times, 1 minute apart). A renewal that still fails, or that the
CA refuses, opens an ops ticket and the run goes on with the next certificate.

Params: {} (nothing needed)
Events: none
Tools: certs.list, certs.renew, tickets.open
"""

from datetime import datetime, timedelta, timezone

DUE_WINDOW = timedelta(days=30)
RENEW_RETRIES = {"limit": 2, "delay": "1 minute", "backoff": "constant"}


def parse_expiry(text):
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


async def run(event, step):
    start = event.timestamp
    deadline = start + DUE_WINDOW

    certificates = await step.do("list certificates", lambda: tools.certs.list())

    due = []
    skipped = 0
    for cert in certificates:
        if parse_expiry(cert["expires"]) <= deadline:
            due.append(cert["domain"])
        else:
            skipped += 1

    renewed = []
    failed = []
    for domain in due:
        try:
            await step.do(
                f"renew {domain}",
                lambda ctx, domain=domain: tools.certs.renew(domain, ctx.idempotency_key),
                retries=RENEW_RETRIES,
            )
            renewed.append(domain)
        except StepFailed as err:
            print(f"renewal of {domain} failed: {err.cause}: {err.message}")
            reason = f"certificate renewal failed: {err.cause}: {err.message}"
            await step.do(
                f"open ticket for {domain}",
                lambda domain=domain, reason=reason: tools.tickets.open(domain, reason),
            )
            failed.append(domain)

    return {"renewed": sorted(renewed), "failed": sorted(failed), "skipped": skipped}
