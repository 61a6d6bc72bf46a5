"""Category 8, resource exhaustion: every attack ends with BudgetExceeded after bounded
CPU, and the engine keeps running other agents' plans (``assert_stopped`` checks it).

Compile-time bombs (deep nesting, huge literals) fail validation cleanly instead.
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from tests.security.conftest import assert_output, assert_stopped, codes

pytestmark = pytest.mark.anyio

BUDGET = "BudgetExceeded"


def plan(body: str, imports: str = "") -> str:
    lines = "\n".join(f"    {line}" for line in body.strip().splitlines())
    return f"{imports}\nasync def run(event, step):\n{lines}\n"


ATTACKS = {
    "while_true": plan("while True:\n    pass"),
    "infinite_for": plan("import itertools\nfor i in itertools.count():\n    pass"),
    "recursion": "def down(n):\n    return down(n + 1)\n\n" + plan("return down(0)"),
    "power_tower": plan("return 10 ** 10 ** 10"),
    "huge_string": plan("return len('a' * 10 ** 10)"),
    "huge_list": plan("return len([0] * 10 ** 9)"),
    "list_grown_in_loop": plan("xs = []\nfor i in range(10 ** 6):\n    xs.append(i)\n"
                               "    xs.extend(xs[:1])\nreturn len(xs)"),
    "while_append": plan("xs = []\nwhile len(xs) < 10 ** 9:\n    xs.append(0)\nreturn 1"),
    "shift": plan("return 1 << 10 ** 9"),
    "sum_range": plan("return sum(range(10 ** 12))"),
    "sorted_range": plan("return sorted(range(10 ** 9))[0]"),
    "join_generator": plan('return len("".join(str(i) for i in range(10 ** 9)))'),
    "join_count": plan('return len("".join(str(i) for i in itertools.count()))',
                       "import itertools"),
    "nested_comprehension": plan("return len([(a, b, c) for a in range(1000) "
                                 "for b in range(1000) for c in range(1000)])"),
    "factorial": plan("return math.factorial(10 ** 6) % 7", "import math"),
    "pow_builtin": plan("return pow(7, 10 ** 9) % 10"),
    "pow_modular_huge": plan("a = 3 ** 20000\nreturn pow(a, a, a + 12345) % 7"),
    "max_over_count": plan("return max(itertools.count())", "import itertools"),
    "list_doubling": plan("xs = [0]\nfor i in range(64):\n    xs = xs + xs\nreturn len(xs)"),
    "deque_doubling": plan("d = collections.deque([1])\nfor i in range(64):\n    d = d + d\n"
                           "return len(d)", "import collections"),
    "string_doubling": plan("s = 'ab'\nwhile True:\n    s += s\n"),
    "str_replace_growth": plan("s = 'a' * 1000\nfor i in range(20):\n"
                               "    s = s.replace('a', 'aaaa')\nreturn len(s)"),
    "zfill": plan("return len('1'.zfill(10 ** 9))"),
    "percent_width": plan("return len(('%s' * 1000) % tuple(['x' * 100000] * 1000))"),
    "fstring_fields": plan("s = 'x' * 1000000\nreturn len(f'{s}{s}{s}{s}{s}{s}{s}{s}')"),
    "textwrap_indent": plan("return len(textwrap.indent('a\\n' * 500000, 'x' * 100000))",
                            "import textwrap"),
    "quantiles": plan("return len(statistics.quantiles([1, 2, 3], n=10 ** 8))",
                      "import statistics"),
    "lcm_million_args": plan("return math.lcm(*range(1, 1000000)) % 7", "import math"),
    "decimal_to_int": plan("return int(decimal.Decimal('1e100000000')) % 7", "import decimal"),
    "fraction_exponent": plan("return fractions.Fraction('1e100000000').numerator % 7",
                              "import fractions"),
    "product_cartesian": plan("return len(list(itertools.product(range(1000), repeat=4)))",
                              "import itertools"),
    "str_of_aliased_list": plan("s = 'x' * 100000\nreturn len(str([s] * 100000))"),
    "repr_of_dag": plan("a = [1]\nfor i in range(40):\n    a = [a, a]\nreturn len(repr(a))"),
    "fstring_of_dag": plan("a = [1]\nfor i in range(40):\n    a = [a, a]\nreturn len(f'{a}')"),
    "json_of_dag": plan("a = [1]\nfor i in range(40):\n    a = [a, a]\n"
                        "return len(json.dumps(a))", "import json"),
    "return_dag": plan("a = [1]\nfor i in range(40):\n    a = [a, a]\nreturn a"),
}


@pytest.mark.parametrize("source", ATTACKS.values(), ids=ATTACKS.keys())
async def test_attack_ends_with_budget_exceeded(engine: ad.Engine, source: str) -> None:
    assert codes(source) == []  # the validator cannot see these; the budget stops them
    await assert_stopped(engine, source, BUDGET)


async def test_decimal_overflow_in_plan_context_is_catchable_arithmetic(engine) -> None:
    # Decimal arithmetic runs under a bounded per-activation context: Overflow, not hang.
    await assert_output(engine, plan(
        "try:\n    d = decimal.Decimal(10) ** 9000 * decimal.Decimal(10) ** 9000\n"
        "except ArithmeticError:\n    return 'overflow'\nreturn 'no'", "import decimal"),
        "overflow")


async def test_exceptions_with_huge_arguments_are_reported_briefly(engine) -> None:
    source = plan("a = [1]\nfor i in range(40):\n    a = [a, a]\nraise ValueError(a)")
    status = await assert_stopped(engine, source, "PlanRuntimeError")
    assert "too large" in status.error.message


async def test_print_flood_is_capped_and_the_plan_completes(engine) -> None:
    source = plan("big = 'x' * 1000000\nfor i in range(100):\n    print(*([big] * 1000))\n"
                  "print('end')\nreturn 'done'")
    scope = engine.agent("attacker", policy=ad.PlanPolicy(fuel=200_000))
    await scope.register_plan("flood", source)
    instance = await scope.create("flood")
    status = await instance.wait(timeout=30)
    assert (status.status, status.output) == ("complete", "done")
    history = await instance.history()
    assert sum(len(entry.line) for entry in history.logs) < 70 * 1024
    assert any("dropped" in entry.line for entry in history.logs)


def test_deeply_nested_expression_fails_validation_cleanly() -> None:
    assert "ADP501" in codes(plan("return " + "(" * 100_000 + "1" + ")" * 100_000))
    assert "ADP501" in codes(plan("return " + "-" * 100_000 + "1"))
    assert "ADP501" in codes(plan("x = 1" + " + 1" * 60_000 + "\nreturn x"))


def test_huge_literals_fail_validation_cleanly() -> None:
    assert "ADP501" in codes(plan("return " + "9" * 5000))
    assert "ADP501" in codes(plan("return [" + "1," * 200_000 + "]"))
    assert "ADP501" in codes("X = '" + "a" * 300_000 + "'\n" + plan("return X"))


BENIGN = {
    "small_loop": (plan("total = 0\nfor i in range(1000):\n    total += i\nreturn total"),
                   499500),
    "small_string": (plan("return 'a' * 10"), "aaaaaaaaaa"),
    "small_list": (plan("return len([0] * 1000)"), 1000),
    "small_join": (plan("return '-'.join(str(i) for i in range(5))"), "0-1-2-3-4"),
    "small_power": (plan("return 2 ** 100 % 1000"), 376),
    "small_recursion": ("def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n\n"
                        + plan("return fact(20)"), 2432902008176640000),
    "math_and_decimal": (plan("return [math.sqrt(4), math.factorial(10), "
                              "str(decimal.Decimal('1.10') + decimal.Decimal('2.205')), "
                              "int(decimal.Decimal('1e20')) % 7]", "import math, decimal"),
                         [2.0, 3628800, "3.305", 2]),
    "fraction_text": (plan("return str(fractions.Fraction('1.5e3') / 7)", "import fractions"),
                      "1500/7"),
    "modular_power": (plan("return pow(7, 65537, 2 ** 2048 - 159) % 1000"), None),
    "str_of_list": (plan("return str([1, 'a', {'k': (1, 2)}])"), "[1, 'a', {'k': (1, 2)}]"),
    "quantiles": (plan("return statistics.quantiles([1, 2, 3, 4, 5], n=4)",
                       "import statistics"), [1.5, 3.0, 4.5]),
    "textwrap": (plan("return textwrap.indent('a\\nb', '> ')", "import textwrap"),
                 "> a\n> b"),
}


@pytest.mark.parametrize(("source", "expected"), BENIGN.values(), ids=BENIGN.keys())
async def test_benign_twin_still_works(engine: ad.Engine, source: str, expected: object,
                                       ) -> None:
    if expected is None:  # a value computed here, with the host's own pow
        expected = pow(7, 65537, 2 ** 2048 - 159) % 1000
    await assert_output(engine, source, expected)


DAG40 = "a = [1]\nfor i in range(40):\n    a = [a, a]\n"  # 2**40 items once rendered


async def test_step_result_is_measured_before_the_engine_encodes_it(engine) -> None:
    # A step result over the result limit is a SPEC limit, found before any text is built.
    source = plan(DAG40 + 'return await step.do("dag", lambda: a)')
    status = await assert_stopped(engine, source, "LimitExceeded")
    assert "into text" in status.error.message


async def test_tool_arguments_are_measured_before_the_engine_encodes_them(engine) -> None:
    # The tool call fails (ToolError) inside the callback, so the step fails.
    engine.tools.register("sink", lambda value=None: None)
    source = plan(DAG40 + 'return await step.do("dag", lambda: tools.sink(a), '
                  'retries={"limit": 0})')
    status = await assert_stopped(engine, source, "StepFailed", tools=("sink",))
    assert "ToolUsageError" in status.error.message
    assert "into text" in status.error.message


async def test_an_error_raised_with_a_huge_value_is_recorded_without_rendering_it(
        engine) -> None:
    source = plan(DAG40 + "def boom():\n    raise ValueError(a)\n"
                  "try:\n    await step.do('dag', boom, retries={'limit': 0})\n"
                  "except StepFailed as failure:\n    return failure.message")
    await assert_output(engine, source, "(the error's arguments are too large to record)")
