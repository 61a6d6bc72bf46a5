"""Manage a customer contract's renewal: notice 60 days ahead, remind once, then act.

At 09:00 UTC sixty days before the contract ends, the account owner is asked for a
renewal decision. They get 7 days, then one reminder and 7 more days. No answer flags the
contract as at risk. "renew" extends the contract by one year (same day, next year);
"cancel" needs nothing more.

Params: {"contract_id": str}
Events: "renewal-decision" with payload {"contract_id": str, "decision": "renew" | "cancel"}
Tools: contracts.get, contracts.renew, contracts.flag_at_risk, email.send
"""

from datetime import UTC, date, datetime, time, timedelta

NOTICE_DAYS_BEFORE = 60
NOTICE_HOUR = 9
WAIT = "7 days"


def one_year_later(day):
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        # 29 February has no twin next year: use the 28th.
        return day.replace(year=day.year + 1, day=28)


async def run(event, step):
    contract_id = event.payload["contract_id"]
    this_contract = {"contract_id": contract_id}

    contract = await step.do("load contract", lambda: tools.contracts.get(contract_id))
    end_date = date.fromisoformat(contract["end_date"])
    owner = contract["owner_email"]
    customer = contract.get("customer", "")

    notice_at = datetime.combine(end_date - timedelta(days=NOTICE_DAYS_BEFORE),
                                 time(NOTICE_HOUR, 0), tzinfo=UTC)
    now = await step.now()
    # A notice time already past is sent at once; otherwise we sleep until it.
    notice_day = notice_at.date() if now < notice_at else now.astimezone(UTC).date()
    await step.sleep_until("wait for notice time", notice_at)

    await step.do("ask for renewal decision", lambda: tools.email.send(
        owner, f"Renewal decision needed for contract {contract_id}",
        f"The contract {contract_id} with {customer} ends on {end_date.isoformat()}. "
        f"Please decide whether to renew or cancel it."))

    reminded = False
    decision_event = None
    try:
        decision_event = await step.wait_for_event("renewal decision", type="renewal-decision",
                                                   timeout=WAIT, match=this_contract)
    except EventTimeout:
        reminded = True
        await step.do("remind owner", lambda: tools.email.send(
            owner, f"Reminder: renewal decision for contract {contract_id}",
            f"We still need your decision on contract {contract_id} with {customer}, "
            f"which ends on {end_date.isoformat()}: renew or cancel?"))
        try:
            decision_event = await step.wait_for_event("renewal decision after reminder",
                                                       type="renewal-decision",
                                                       timeout=WAIT, match=this_contract)
        except EventTimeout:
            print(f"no renewal decision for {contract_id}; flagging it at risk")

    if decision_event is None:
        await step.do("flag at risk", lambda: tools.contracts.flag_at_risk(contract_id))
        return {"contract_id": contract_id, "notice_sent_on": notice_day.isoformat(),
                "decision": None, "reminded": reminded, "new_end_date": None}

    decision = decision_event["payload"].get("decision")
    new_end_date = None
    if decision == "renew":
        new_end_date = one_year_later(end_date).isoformat()
        await step.do("renew contract",
                      lambda: tools.contracts.renew(contract_id, new_end_date))

    return {"contract_id": contract_id, "notice_sent_on": notice_day.isoformat(),
            "decision": decision, "reminded": reminded, "new_end_date": new_end_date}
