"""Hard: Decimal payroll with overtime and progressive tax; idempotent payouts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Run the monthly payroll.

1. List employees with `hr.employees()`: [{"id": str, "salary": str (monthly, decimal),
   "overtime_hours": str (decimal), "hourly_rate": str (decimal)}].
2. For each employee, with exact decimal arithmetic:
   - gross = salary + overtime_hours * hourly_rate * 1.5, rounded to cents (ROUND_HALF_UP)
   - tax is progressive on gross: 10% of the part up to 3000, 20% of the part between
     3000 and 6000, 30% of the part above 6000; round the tax to cents (ROUND_HALF_UP)
   - net = gross - tax
3. Pay each employee once with `payments.payout(employee_id, amount, idempotency_key)`
   (amount: net as a string with 2 decimals). The bank API fails transiently now and
   then; retries are fine but nobody may be paid twice.

Params (`event.payload`): {"period": "2025-12"}.
No events arrive.

Return: {"period": str, "employees": int, "gross_total": str, "tax_total": str,
"net_total": str, "payouts": {employee_id: net}} (all money as strings with 2 decimals).
"""

PARAMS = {"period": "2025-12"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "1 minute"), ("advance", "5 minutes")]
EMPLOYEES = [
    {"id": "E1", "salary": "2800.00", "overtime_hours": "0", "hourly_rate": "18.00"},
    {"id": "E2", "salary": "4200.00", "overtime_hours": "6.5", "hourly_rate": "26.25"},
    {"id": "E3", "salary": "7150.00", "overtime_hours": "3.25", "hourly_rate": "45.10"},
    {"id": "E4", "salary": "2999.99", "overtime_hours": "0.5", "hourly_rate": "19.99"},
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(payouts=[])

    def hr_employees() -> list:
        """Employees on the payroll.

        A list of {"id": str, "salary": str, "overtime_hours": str, "hourly_rate": str}.
        """
        rec.call("hr.employees")
        return [dict(e) for e in EMPLOYEES]

    def payments_payout(employee_id: str, amount: str, idempotency_key: str = "") -> dict:
        """Transfer `amount` (decimal string) to an employee's bank account.

        Returns {"transfer_id": str}. Raises ConnectionError when the bank is busy.
        """
        if rec.call("payments.payout", employee_id) == 1 and employee_id == "E3":
            raise ConnectionError("bank API busy")
        rec.once("payouts", idempotency_key, [employee_id, amount])
        return {"transfer_id": f"TR-{employee_id}"}

    return {"hr.employees": hr_employees, "payments.payout": payments_payout}, rec.state


def _pay(e: dict[str, str]) -> tuple[Decimal, Decimal, Decimal]:
    cents = Decimal("0.01")
    gross = (Decimal(e["salary"]) + Decimal(e["overtime_hours"]) * Decimal(e["hourly_rate"])
             * Decimal("1.5")).quantize(cents, rounding=ROUND_HALF_UP)
    tax = (min(gross, Decimal(3000)) * Decimal("0.10")
           + max(min(gross, Decimal(6000)) - 3000, Decimal(0)) * Decimal("0.20")
           + max(gross - 6000, Decimal(0)) * Decimal("0.30")).quantize(cents,
                                                                      rounding=ROUND_HALF_UP)
    return gross, tax, gross - tax


def check(output: Any, state: dict[str, Any]) -> None:
    pays = {e["id"]: _pay(e) for e in EMPLOYEES}
    expected = {"period": "2025-12", "employees": 4,
                "gross_total": f"{sum(p[0] for p in pays.values()):.2f}",
                "tax_total": f"{sum(p[1] for p in pays.values()):.2f}",
                "net_total": f"{sum(p[2] for p in pays.values()):.2f}",
                "payouts": {k: f"{p[2]:.2f}" for k, p in pays.items()}}
    assert output == expected, (output, expected)
    assert sorted(state["payouts"]) == sorted([k, f"{p[2]:.2f}"] for k, p in pays.items())
