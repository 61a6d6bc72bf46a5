"""Run a password reset: email a one-time link, revoke it if unused within an hour.

Creates a reset token once, emails its link to the user, then waits up to 1 hour for a
"password-changed" event for this user (events about other users are ignored). If none
arrives in time the token is revoked.

Params: {"user_id": int, "email": str}
Events: "password-changed" with payload {"user_id": int}
Tools: auth.create_reset_token, auth.revoke_token, email.send
"""

RESET_WINDOW = "1 hour"


async def run(event, step):
    user_id = event.payload["user_id"]
    email = event.payload["email"]

    reset = await step.do("create reset token", lambda: tools.auth.create_reset_token(user_id))

    body = (f"Someone asked to reset your password. Use this link within 1 hour:\n"
            f"{reset['link']}\n\nIf this was not you, ignore this email.")
    await step.do("email reset link", lambda: tools.email.send(
        email, "Reset your password", body))

    try:
        await step.wait_for_event("password changed", type="password-changed",
                                  timeout=RESET_WINDOW, match={"user_id": user_id})
    except EventTimeout:
        print(f"user {user_id} did not change the password within {RESET_WINDOW}")
        await step.do("revoke reset token", lambda: tools.auth.revoke_token(reset["token"]))
        return {"user_id": user_id, "changed": False, "revoked": True}

    return {"user_id": user_id, "changed": True, "revoked": False}
