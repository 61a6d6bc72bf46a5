"""Answer "where is my order?": email the customer if delivered, else open a ticket.

Looks the order up. A delivered order gets a friendly email to the customer; any other
status opens a support ticket ("not delivered: <status>") and sends no email.

Params: {"order_id": str}
Events: none
Tools: orders.get, email.send, tickets.open
"""


async def run(event, step):
    order_id = event.payload["order_id"]

    order = await step.do("look up order", lambda: tools.orders.get(order_id))
    status = order["status"]

    if status == "delivered":
        await step.do("email customer", lambda: tools.email.send(
            order["customer_email"], f"Your order {order_id} was delivered",
            f"Good news! Your order {order_id} has been delivered. "
            f"We hope you enjoy it, and thank you for shopping with us."))
        return {"order_id": order_id, "status": status, "action": "emailed",
                "ticket_id": None}

    ticket = await step.do("open ticket", lambda: tools.tickets.open(
        order_id, f"not delivered: {status}"))
    return {"order_id": order_id, "status": status, "action": "ticket",
            "ticket_id": ticket["ticket_id"]}
