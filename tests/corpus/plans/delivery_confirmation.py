"""Follow up on an order until the customer confirms delivery.

Load the order, give the courier 2 days, then wait up to 3 days for a
"delivery-confirmed" event for this order. Without one, email the customer a single
reminder and wait up to 2 more days. Still nothing: open a support ticket.
Confirmations of other orders (another order_id) are ignored.

Params: {"order_id": str}
Events: "delivery-confirmed" with payload {"order_id": str, "note": str}
Tools: orders.get, email.send, tickets.open
"""

COURIER_TIME = "2 days"
FIRST_WAIT = "3 days"
WAIT_AFTER_REMINDER = "2 days"


async def run(event, step):
    order_id = event.payload["order_id"]
    this_order = {"order_id": order_id}

    order = await step.do("load order", lambda: tools.orders.get(order_id))

    await step.sleep("let the courier work", COURIER_TIME)

    reminded = False
    confirmation = None
    try:
        confirmation = await step.wait_for_event("confirmation", type="delivery-confirmed",
                                                 timeout=FIRST_WAIT, match=this_order)
    except EventTimeout:
        reminded = True
        await step.do("remind customer", lambda: tools.email.send(
            order["email"],
            f"Did your order {order_id} arrive?",
            f"Please confirm that your order {order_id} was delivered."))
        try:
            confirmation = await step.wait_for_event("confirmation after reminder",
                                                     type="delivery-confirmed",
                                                     timeout=WAIT_AFTER_REMINDER,
                                                     match=this_order)
        except EventTimeout:
            print(f"no confirmation for {order_id}; opening a ticket")

    if confirmation is None:
        ticket = await step.do("open ticket", lambda: tools.tickets.open(
            order_id, "delivery not confirmed after reminder"))
        return {"order_id": order_id, "confirmed": False, "reminded": reminded,
                "note": None, "ticket_id": ticket["ticket_id"]}

    return {"order_id": order_id, "confirmed": True, "reminded": reminded,
            "note": confirmation["payload"].get("note"), "ticket_id": None}
