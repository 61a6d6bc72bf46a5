"""Fulfil an order as a saga: reserve stock, charge, ship; undo reservations on a decline.

Loads the order, reserves stock for each line in order (idempotency keys keep retries
from reserving twice), then charges the exact decimal total once. A charged order gets
a shipment ("fulfilled"). If the charge fails (a declined card is non-retryable), every
reservation is released once, in reverse order, and the order is cancelled
("cancelled").

Params: {"order_id": str}
Events: none
Tools: orders.get, inventory.reserve, payments.charge, shipping.create,
       inventory.release, orders.cancel
"""

from decimal import Decimal, ROUND_HALF_UP

CENTS = Decimal("0.01")


async def run(event, step):
    order_id = event.payload["order_id"]

    order = await step.do(f"load order {order_id}", lambda: tools.orders.get(order_id))
    lines = order.get("lines", [])

    total = Decimal("0")
    for line in lines:
        total += Decimal(int(line["qty"])) * Decimal(str(line["unit_price"]))
    amount = f"{total.quantize(CENTS, rounding=ROUND_HALF_UP):.2f}"

    reservations = []
    for index, line in enumerate(lines):
        reserved = await step.do(
            f"reserve line {index + 1}: {line['sku']} x{line['qty']}",
            lambda ctx, line=line: tools.inventory.reserve(
                line["sku"], line["qty"], ctx.idempotency_key))
        reservations.append(reserved["reservation_id"])

    try:
        await step.do(f"charge {amount}", lambda ctx: tools.payments.charge(
            order["customer_id"], amount, ctx.idempotency_key))
    except StepFailed as err:
        print(f"charge for {order_id} failed: {err.cause}: {err.message}; compensating")
        released = []
        for reservation_id in reversed(reservations):
            await step.do(f"release {reservation_id}",
                          lambda reservation_id=reservation_id:
                          tools.inventory.release(reservation_id))
            released.append(reservation_id)
        reason = f"payment failed: {err.message}"
        await step.do(f"cancel order {order_id}",
                      lambda: tools.orders.cancel(order_id, reason))
        return {"order_id": order_id, "status": "cancelled", "total": amount,
                "released": released}

    await step.do(f"ship order {order_id}", lambda: tools.shipping.create(order_id))
    return {"order_id": order_id, "status": "fulfilled", "total": amount, "released": []}
