"""Enrol a student once their guardian signs the contract.

Holds a seat (the seat service is flaky, so the step retries), emails the guardian the
contract and waits up to 3 days for this application's "guardian-signed" event; without
it, one reminder and 4 more days. Signed: the held seat becomes an enrolment. Never
signed: the seat is released once and the guardian is told the application lapsed.

Params: {"application_id": str, "school_id": str, "grade": int, "guardian_email": str}
Events: "guardian-signed" with payload {"application_id": str}
Tools: seats.hold, email.send, enrolment.confirm, seats.release
"""

FIRST_WAIT = "3 days"
WAIT_AFTER_REMINDER = "4 days"


async def run(event, step):
    params = event.payload
    application_id = params["application_id"]
    school_id = params["school_id"]
    grade = params["grade"]
    guardian = params["guardian_email"]
    this_application = {"application_id": application_id}

    hold = await step.do(f"hold seat for {application_id}",
                         lambda ctx: tools.seats.hold(school_id, grade, application_id,
                                                      ctx.idempotency_key))
    hold_id = hold["hold_id"]

    await step.do("email contract", lambda ctx: tools.email.send(
        guardian,
        f"Enrolment contract for application {application_id}",
        (f"A seat in grade {grade} at {school_id} is held for application "
         f"{application_id}. Please sign the enrolment contract within 3 days."),
        ctx.idempotency_key))

    reminded = False
    signed = None
    try:
        signed = await step.wait_for_event("guardian signature", type="guardian-signed",
                                           timeout=FIRST_WAIT, match=this_application)
    except EventTimeout:
        reminded = True
        await step.do("email reminder", lambda ctx: tools.email.send(
            guardian,
            f"Reminder: enrolment contract for application {application_id}",
            (f"The seat in grade {grade} at {school_id} for application {application_id} "
             f"is still held. Please sign the contract within 4 days, or the application "
             f"will lapse."),
            ctx.idempotency_key))
        try:
            signed = await step.wait_for_event("guardian signature after reminder",
                                               type="guardian-signed",
                                               timeout=WAIT_AFTER_REMINDER,
                                               match=this_application)
        except EventTimeout:
            print(f"{application_id} was never signed; releasing hold {hold_id}")

    if signed is not None:
        enrolment = await step.do(f"confirm enrolment {application_id}",
                                  lambda ctx: tools.enrolment.confirm(
                                      application_id, hold_id, ctx.idempotency_key))
        return {"application_id": application_id, "status": "enrolled",
                "student_number": enrolment["student_number"], "reminded": reminded}

    await step.do(f"release seat {hold_id}", lambda: tools.seats.release(hold_id))
    await step.do("email lapse notice", lambda ctx: tools.email.send(
        guardian,
        f"Application {application_id} lapsed",
        (f"The enrolment contract for application {application_id} was not signed within "
         f"7 days, so the application lapsed and the held seat was released."),
        ctx.idempotency_key))

    return {"application_id": application_id, "status": "lapsed", "student_number": None,
            "reminded": reminded}
