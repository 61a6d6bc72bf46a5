"""Release a version through staging, a human approval gate and production, with rollback.

Notes what production runs, ships the version to staging and smoke-tests it. A passing
staging asks #releases for approval and waits up to 4 hours for this version's decision.
Once approved, ships to production and smoke-tests; a failing production smoke test rolls
production back to the version it ran before.

Params: {"version": str}
Events: "deploy-approval" with payload {"version": str, "approved": bool, "by": str}
Tools: deploy.current, deploy.ship, deploy.smoke, chat.post
"""

CHANNEL = "#releases"
APPROVAL_WAIT = "4 hours"


async def run(event, step):
    version = event.payload["version"]

    current = await step.do("read production version",
                            lambda: tools.deploy.current("production"))
    previous = current["version"]

    def result(status, approved_by=None):
        return {"version": version, "status": status, "previous": previous,
                "approved_by": approved_by}

    # The idempotency key keeps a retried ship from deploying twice.
    await step.do(f"ship {version} to staging", lambda ctx: tools.deploy.ship(
        "staging", version, ctx.idempotency_key))
    staging = await step.do("smoke staging", lambda: tools.deploy.smoke("staging"))
    if not staging.get("ok"):
        print(f"staging smoke failed for {version}: {staging.get('failures')}")
        return result("staging_failed")

    await step.do("ask for approval", lambda: tools.chat.post(
        CHANNEL, f"{version} passed staging smoke tests. Approve the production release? "
                 f"(production runs {previous})"))

    try:
        decision = await step.wait_for_event("approval", type="deploy-approval",
                                             timeout=APPROVAL_WAIT, match={"version": version})
    except EventTimeout:
        print(f"no approval for {version} within {APPROVAL_WAIT}")
        return result("not_approved")

    if not decision["payload"].get("approved"):
        print(f"{version} was not approved by {decision['payload'].get('by')}")
        return result("not_approved")
    approved_by = decision["payload"].get("by")

    await step.do(f"ship {version} to production", lambda ctx: tools.deploy.ship(
        "production", version, ctx.idempotency_key))
    production = await step.do("smoke production", lambda: tools.deploy.smoke("production"))
    if not production.get("ok"):
        print(f"production smoke failed for {version}: {production.get('failures')}; "
              f"rolling back to {previous}")
        await step.do(f"roll back production to {previous}", lambda ctx: tools.deploy.ship(
            "production", previous, ctx.idempotency_key))
        return result("rolled_back", approved_by)

    return result("released", approved_by)
