"""Follow up on an order until the customer confirms delivery; remind once, then ticket.

The harness's own reference plan for tasks/delivery_confirmation.py: it shows the runner
passes a correct plan (tests/corpus/test_corpus.py). Not a blind draft.
"""


async def run(event, step):
    order_id = event.payload["order_id"]
    order = await step.do("load order", lambda: tools.orders.get(order_id))
    await step.sleep("let the courier work", "2 days")
    this_order = {"order_id": order_id}

    reminded = False
    try:
        reply = await step.wait_for_event("confirmation", type="delivery-confirmed",
                                          timeout="3 days", match=this_order)
    except EventTimeout:
        reminded = True
        await step.do("remind customer", lambda: tools.email.send(
            order["email"], f"Did order {order_id} arrive?", "Please confirm delivery."))
        try:
            reply = await step.wait_for_event("confirmation after reminder",
                                              type="delivery-confirmed", timeout="2 days",
                                              match=this_order)
        except EventTimeout:
            ticket = await step.do("open ticket", lambda: tools.tickets.open(
                order_id, "no delivery confirmation after a reminder"))
            return {"order_id": order_id, "confirmed": False, "reminded": True,
                    "note": None, "ticket_id": ticket["ticket_id"]}

    return {"order_id": order_id, "confirmed": True, "reminded": reminded,
            "note": reply["payload"].get("note"), "ticket_id": None}
