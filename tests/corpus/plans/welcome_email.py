"""Send a welcome email to a user who just signed up.

Fetch the user once, then send exactly one welcome email (idempotency key) to their
address, with the subject "Welcome, <first name>!" and a body that names their plan.

Params: {"user_id": int}
Events: none
Tools: users.get, email.send
"""


async def run(event, step):
    user_id = event.payload["user_id"]

    user = await step.do("load user", lambda: tools.users.get(user_id))

    words = (user.get("full_name") or "").split()
    first_name = words[0] if words else "there"
    subject = f"Welcome, {first_name}!"
    body = (f"Hi {first_name},\n\n"
            f"Thanks for signing up! Your account is on the {user['plan']} plan, "
            f"and everything is ready for you.\n\n"
            f"Welcome aboard!")

    await step.do("send welcome email", lambda ctx: tools.email.send(
        user["email"], subject, body, ctx.idempotency_key))

    return {"user_id": user_id, "email": user["email"], "subject": subject}
