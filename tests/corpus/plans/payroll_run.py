"""Run the monthly payroll with exact decimal arithmetic.

List the employees once, compute each one's gross (salary plus overtime at 1.5x the
hourly rate, rounded to cents half-up), the progressive tax (10% up to 3000, 20% from
3000 to 6000, 30% above 6000, rounded to cents half-up) and the net, then pay each
employee exactly once: each payout is its own step with an idempotency key, so the
retries after a busy bank never pay anybody twice.

Params: {"period": str}
Events: none
Tools: hr.employees, payments.payout
"""

from decimal import Decimal, ROUND_HALF_UP

CENT = Decimal("0.01")
OVERTIME_FACTOR = Decimal("1.5")
# (lower bound, upper bound or None, rate) of each tax bracket
BRACKETS = [
    ["0", "3000", "0.10"],
    ["3000", "6000", "0.20"],
    ["6000", None, "0.30"],
]
PAYOUT_RETRIES = {"limit": 8, "delay": "5 seconds", "backoff": "exponential"}


def to_cents(x):
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def tax_on(gross):
    tax = Decimal("0")
    for low, high, rate in BRACKETS:
        low = Decimal(low)
        if gross <= low:
            break
        top = gross if high is None else min(gross, Decimal(high))
        tax += (top - low) * Decimal(rate)
    return to_cents(tax)


async def run(event, step):
    period = event.payload["period"]

    employees = await step.do("list employees", lambda: tools.hr.employees())

    gross_total = Decimal("0")
    tax_total = Decimal("0")
    net_total = Decimal("0")
    payouts = {}

    for emp in employees:
        emp_id = emp["id"]
        gross = to_cents(Decimal(emp["salary"])
                         + Decimal(emp["overtime_hours"]) * Decimal(emp["hourly_rate"])
                         * OVERTIME_FACTOR)
        tax = tax_on(gross)
        net = gross - tax
        amount = str(to_cents(net))

        await step.do(f"pay {emp_id} for {period}",
                      lambda ctx, emp_id=emp_id, amount=amount:
                      tools.payments.payout(emp_id, amount, ctx.idempotency_key),
                      retries=PAYOUT_RETRIES)

        gross_total += gross
        tax_total += tax
        net_total += net
        payouts[emp_id] = amount

    return {
        "period": period,
        "employees": len(employees),
        "gross_total": str(to_cents(gross_total)),
        "tax_total": str(to_cents(tax_total)),
        "net_total": str(to_cents(net_total)),
        "payouts": payouts,
    }
