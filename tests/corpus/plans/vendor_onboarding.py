"""Onboard a new vendor once both required documents have arrived.

Waits concurrently for the vendor's "documents-uploaded" and "tax-form-received" events
(either order, only events for this vendor_id). Deadlines are measured from the run's
start: if anything is missing at day 7, the vendor is emailed once with what is missing
and the deadline moves to day 10. With both documents in, the compliance review decides:
approved vendors are activated ("active"), others rejected ("rejected"). Anything still
missing at day 10 rejects the application ("expired").

Params: {"vendor_id": str, "email": str}
Events: "documents-uploaded" with payload {"vendor_id": str, "files": int}
        "tax-form-received" with payload {"vendor_id": str, "form": str}
Tools: email.send, compliance.review, vendors.activate, vendors.reject
"""

from datetime import timedelta

FIRST_DEADLINE = timedelta(days=7)
FINAL_DEADLINE = timedelta(days=10)
REQUIRED = [
    ("documents", "documents-uploaded", "the uploaded documents"),
    ("tax_form", "tax-form-received", "the tax form"),
]


async def run(event, step):
    vendor_id = event.payload["vendor_id"]
    vendor_email = event.payload["email"]
    started = event.timestamp
    this_vendor = {"vendor_id": vendor_id}

    async def wait_for(key, event_type, phase, deadline):
        now = await step.now()
        remaining = max((started + deadline - now).total_seconds(), 1)
        try:
            await step.wait_for_event(f"{key} ({phase})", type=event_type,
                                      timeout=remaining, match=this_vendor)
        except EventTimeout:
            return False
        return True

    received = await step.gather(
        *[wait_for(key, event_type, "by day 7", FIRST_DEADLINE)
          for key, event_type, label in REQUIRED])
    have = {key: got for (key, event_type, label), got in zip(REQUIRED, received)}

    missing_at_deadline = [key for key, event_type, label in REQUIRED if not have[key]]
    reminded = False

    if missing_at_deadline:
        reminded = True
        labels = [label for key, event_type, label in REQUIRED if not have[key]]
        body = (f"Hello,\n\nyour vendor onboarding ({vendor_id}) is still missing: "
                f"{', '.join(labels)}.\nPlease send it within 3 days, or the application "
                f"will be closed.\n")
        await step.do("remind vendor", lambda: tools.email.send(
            vendor_email, f"Vendor onboarding {vendor_id}: documents missing", body))

        late = await step.gather(
            *[wait_for(key, event_type, "by day 10", FINAL_DEADLINE)
              for key, event_type, label in REQUIRED if not have[key]])
        for key, got in zip(missing_at_deadline, late):
            have[key] = got

    still_missing = [key for key, event_type, label in REQUIRED if not have[key]]
    if still_missing:
        reason = f"missing after 10 days: {', '.join(still_missing)}"
        await step.do("reject vendor (expired)",
                      lambda: tools.vendors.reject(vendor_id, reason))
        status = "expired"
    else:
        review = await step.do("compliance review",
                               lambda: tools.compliance.review(vendor_id))
        if review.get("approved"):
            await step.do("activate vendor", lambda: tools.vendors.activate(vendor_id))
            status = "active"
        else:
            await step.do("reject vendor (compliance)", lambda: tools.vendors.reject(
                vendor_id, "compliance review not approved"))
            status = "rejected"

    return {"vendor_id": vendor_id, "status": status, "reminded": reminded,
            "missing_at_deadline": missing_at_deadline}
