"""Single C calls that ran for minutes on values inside the limits. What can be priced
is priced before the call (and refused with the limit named); the int bit cap holds for
every operation's operands and results, so no quadratic operation sees a huge int.
What cannot be priced is listed in ``agents_durable.plans``' decision log.
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.plans._sizes import safe_repr, safe_str
from tests.security.conftest import assert_output, assert_stopped

pytestmark = pytest.mark.anyio

BITS = "integer of"


def plan(body: str, imports: str = "") -> str:
    lines = "\n".join(f"    {line}" for line in body.strip().splitlines())
    return f"{imports}\nasync def run(event, step):\n{lines}\n"


ATTACKS = {
    "round_huge_negative_ndigits": (plan("return round(5, -10 ** 7)"), "round()"),
    "round_fraction_huge_ndigits": (plan(
        "return str(round(fractions.Fraction(1, 3), 10 ** 7))", "import fractions"),
        "round()"),
    "division_of_an_int_from_hex": (plan(
        "x = int('f' * 1000000, 16)\nreturn x // (x >> 2000000) % 7"), BITS),
    "int_of_a_long_digit_string": (plan("return int('9' * 20000) % 7"), BITS),
    "addition_past_the_cap": (plan(
        "x = 1 << 32760\nfor i in range(20):\n    x = x + x\nreturn x % 7"), BITS),
    "subtraction_past_the_cap": (plan(
        "x = 1 << 32760\nfor i in range(20):\n    x = x - (-x)\nreturn x % 7"), BITS),
    "augmented_subtraction_past_the_cap": (plan(
        "x = 1 << 32760\nfor i in range(20):\n    x -= -x\nreturn x % 7"), BITS),
    "lcm_result_past_the_cap": (plan(
        "return math.lcm(*range(2 ** 62, 2 ** 62 + 3000)) % 7", "import math"), BITS),
    "fraction_negative_exponent": (plan(
        "return (fractions.Fraction(2, 3) ** -1000000).denominator % 7",
        "import fractions"), BITS),
    "fraction_sum_of_large_denominators": (plan(
        "d = 3 ** 20000\ntotal = fractions.Fraction(0)\nfor i in range(200):\n"
        "    total = total + fractions.Fraction(1, d + 2 * i)\nreturn total.denominator % 7",
        "import fractions"), BITS),
    "fraction_difference_and_quotient": (plan(
        "d = 3 ** 20000\na = fractions.Fraction(1, d)\nb = fractions.Fraction(1, d + 2)\n"
        "return [(a - b).denominator % 7, (a / b).denominator % 7]", "import fractions"),
        BITS),
    "statistics_mean_of_large_denominators": (plan(
        "d = 3 ** 20000\nxs = [fractions.Fraction(1, d + 2 * i) for i in range(50)]\n"
        "return str(statistics.mean(xs))[:5]", "import fractions, statistics"), BITS),
    "divmod_builtin": (plan("x = int('f' * 100000, 16)\nreturn divmod(x, 3)[1]"), BITS),
    "startswith_many_long_prefixes": (plan(
        "s = 'x' * 1000000\np = ('x' * 500000 + 'y' + 'x' * 499999,) * 100000\n"
        "return s.startswith(p)"), "fuel"),
    "endswith_many_long_suffixes": (plan(
        "s = 'x' * 1000000\np = ('x' * 500000 + 'y' + 'x' * 499999,) * 100000\n"
        "return s.endswith(p)"), "fuel"),
}


@pytest.mark.parametrize(("source", "words"), ATTACKS.values(), ids=ATTACKS.keys())
async def test_call_that_would_stall_is_refused(engine: ad.Engine, source: str,
                                                words: str) -> None:
    status = await assert_stopped(engine, source, "BudgetExceeded")
    assert words in status.error.message, status.error.message


async def test_set_intersection_with_thousands_of_huge_sets_is_priced(engine: ad.Engine,
                                                                      ) -> None:
    # 5000 x 1,000,000 element lookups in one C call (minutes); priced first, refused.
    source = plan("big = frozenset(range(10 ** 6))\n"
                  "return len(big.intersection(*[big] * 5000))")
    status = await assert_stopped(engine, source, "BudgetExceeded",
                                  policy=ad.PlanPolicy())
    assert "fuel" in status.error.message


BENIGN = {
    "round": (plan("return [round(2.675, 2), round(1234, -2), round(7.5), "
                   "str(round(fractions.Fraction(1, 3), 3))]", "import fractions"),
              [2.67, 1200, 8, "333/1000"]),
    "int_arithmetic_near_the_cap": (plan(
        "x = 1 << 32000\ny = x + x - x\nreturn [y == x, (x // 3) % 7, x % 1000, "
        "divmod(17, 5), 7 / 2, 7 // 2, -7 % 3]"),
        [True, ((1 << 32000) // 3) % 7, (1 << 32000) % 1000, [3, 2], 3.5, 3, 2]),
    "int_from_text": (plan("return [int('f' * 100, 16) % 7, int('9' * 100) % 7]"),
                      [int("f" * 100, 16) % 7, int("9" * 100) % 7]),
    "lcm": (plan("return [math.lcm(4, 6), math.lcm(*range(1, 30)), math.lcm()]",
                 "import math"), [12, 2329089562800, 1]),
    "fractions": (plan("a = fractions.Fraction(1, 3)\nb = fractions.Fraction(1, 6)\n"
                       "return [str(a + b), str(a - b), str(a / b), str(a ** -2), "
                       "str(sum([a, b], fractions.Fraction(0)))]", "import fractions"),
                  ["1/2", "1/6", "2", "9", "1/2"]),
    "statistics_of_fractions": (plan(
        "return str(statistics.mean([fractions.Fraction(1, i) for i in range(1, 50)]))",
        "import fractions, statistics"), None),
    "startswith_tuple": (plan("return ['abc'.startswith(('x', 'ab')), 'abc'.endswith(('c',)),"
                              " 'abc'.startswith('a', 0, 2)]"), [True, True, True]),
    "set_methods": (plan("a = {1, 2, 3}\nreturn [sorted(a.intersection({2, 3}, [3])), "
                         "sorted(a.union([4], (5,))), sorted(a.difference([1])), "
                         "a.isdisjoint([9]), a.issubset(range(5)), "
                         "sorted(frozenset([1]).union([2]))]"),
                    [[3], [1, 2, 3, 4, 5], [2, 3], True, True, [1, 2]]),
    "numeric_sum_starts": (plan("return [str(sum([decimal.Decimal('1.5'), 2], "
                                "decimal.Decimal(0))), sum([0.5, 0.25], 0.0), "
                                "sum([1j], 0j) == 1j, sum([1, 2], 10)]", "import decimal"),
                           ["3.5", 0.75, True, 13]),
}


@pytest.mark.parametrize(("source", "expected"), BENIGN.values(), ids=BENIGN.keys())
async def test_benign_twin_still_works(engine: ad.Engine, source: str, expected: object,
                                       ) -> None:
    if expected is None:
        import fractions
        import statistics
        expected = str(statistics.mean([fractions.Fraction(1, i) for i in range(1, 50)]))
    await assert_output(engine, source, expected)


async def test_sum_with_a_text_or_list_start_names_the_alternative(engine: ad.Engine) -> None:
    status = await assert_stopped(engine, plan("return sum(['a'], '')"), "TypeError")
    assert '"".join' in status.error.message
    status = await assert_stopped(engine, plan("return sum([[1]], [])"), "TypeError")
    assert "itertools.chain" in status.error.message


def test_safe_repr_measures_before_rendering() -> None:
    # The helper the engine uses to show a plan value in its own text (step names,
    # retry keys, exception arguments): bounded, no addresses, valid UTF-8.
    a: list[object] = [1]
    for _ in range(40):
        a = [a, a]
    assert "too large" in safe_repr(a, 1000)
    assert "too large" in safe_str(a, 1000)
    assert safe_repr("x" * 5000, 100) == repr("x" * 5000)[:100] + " [...]"
    assert safe_repr({"k": (1, 2.5, None)}, 100) == "{'k': (1, 2.5, None)}"

    def helper() -> None:
        pass

    text = safe_repr([helper, len, "ab".upper, ValueError("x")], 1000)
    assert "0x" not in text and "<locals>" not in text, text
    assert text == ("[<built-in function helper>, <built-in function len>, "
                    "<built-in method upper>, ValueError('x')]")
    assert safe_str("\ud800", 100).encode("utf-8") == b"\\ud800"
    assert safe_str(ValueError("boom"), 100) == "boom"
    looped: list[object] = [1]
    looped.append(looped)
    assert safe_repr(looped, 100) == "[1, [...]]"
