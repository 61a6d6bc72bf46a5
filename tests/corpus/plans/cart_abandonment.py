"""Win back an abandoned shopping cart: wait, remind, then send a 10% coupon.

Waits one hour for this cart's checkout. Without it, emails a reminder and waits 23 more
hours. Still no checkout: creates a single-use 10% coupon and emails the code.

Params: {"cart_id": str, "customer_id": str, "email": str}
Events: "checkout-completed" with payload {"cart_id": str} (only this cart counts)
Tools: email.send, coupons.create
"""

COUPON_PERCENT = 10


async def run(event, step):
    cart_id = event.payload["cart_id"]
    customer_id = event.payload["customer_id"]
    to = event.payload["email"]
    this_cart = {"cart_id": cart_id}
    emails_sent = 0

    try:
        await step.wait_for_event("checkout", type="checkout-completed",
                                  timeout="1 hour", match=this_cart)
        return {"cart_id": cart_id, "outcome": "purchased", "coupon": None,
                "emails_sent": emails_sent}
    except EventTimeout:
        pass

    await step.do("send reminder", lambda: tools.email.send(
        to, "You left something in your cart",
        f"Your cart {cart_id} is still waiting for you. Complete your purchase any time."))
    emails_sent += 1

    try:
        await step.wait_for_event("checkout after reminder", type="checkout-completed",
                                  timeout="23 hours", match=this_cart)
        return {"cart_id": cart_id, "outcome": "purchased_after_reminder", "coupon": None,
                "emails_sent": emails_sent}
    except EventTimeout:
        pass

    # The idempotency key makes a retried create return the same coupon, not a second one.
    coupon = await step.do("create coupon", lambda ctx: tools.coupons.create(
        customer_id, COUPON_PERCENT, ctx.idempotency_key))
    code = coupon["code"]

    await step.do("send coupon", lambda: tools.email.send(
        to, f"{COUPON_PERCENT}% off your cart",
        f"Use code {code} for {COUPON_PERCENT}% off the items in your cart {cart_id}."))
    emails_sent += 1

    return {"cart_id": cart_id, "outcome": "coupon_sent", "coupon": code,
            "emails_sent": emails_sent}
