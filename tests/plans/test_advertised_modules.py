"""Every module and name the policy advertises works in a real plan run, on every
supported Python (``itertools.batched`` is 3.12+; plans get a vetted version on 3.11).

The table below is checked against ``DEFAULT_MODULES`` itself: a name added to the
policy without an exercise here fails ``test_every_advertised_name_has_an_exercise``.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.plans import DEFAULT_MODULES
from tests.conftest import run_plan

pytestmark = pytest.mark.anyio

#: module -> name -> expressions over ``m`` (the module) that use the name.
EXERCISES: dict[str, dict[str, tuple[str, ...]]] = {
    "math": {
        "pi": ("m.pi",), "e": ("m.e",), "tau": ("m.tau",), "inf": ("m.inf > 1",),
        "nan": ("m.isnan(m.nan)",), "ceil": ("m.ceil(1.2)",), "floor": ("m.floor(1.8)",),
        "trunc": ("m.trunc(-1.5)",), "fabs": ("m.fabs(-2)",), "sqrt": ("m.sqrt(16)",),
        "isqrt": ("m.isqrt(17)",), "exp": ("m.exp(0)",), "log": ("m.log(m.e)",),
        "log2": ("m.log2(8)",), "log10": ("m.log10(1000)",), "log1p": ("m.log1p(0)",),
        "pow": ("m.pow(2, 3)",), "sin": ("m.sin(0)",), "cos": ("m.cos(0)",),
        "tan": ("m.tan(0)",), "asin": ("m.asin(0)",), "acos": ("m.acos(1)",),
        "atan": ("m.atan(0)",), "atan2": ("m.atan2(0, 1)",), "hypot": ("m.hypot(3, 4)",),
        "degrees": ("m.degrees(m.pi)",), "radians": ("m.radians(180)",),
        "isfinite": ("m.isfinite(1.0)",), "isinf": ("m.isinf(m.inf)",),
        "isnan": ("m.isnan(1.0)",), "isclose": ("m.isclose(1.0, 1.0 + 1e-12)",),
        "gcd": ("m.gcd(12, 18)",), "lcm": ("m.lcm(4, 6)", "m.lcm(*range(1, 20))"),
        "factorial": ("m.factorial(10)",), "comb": ("m.comb(5, 2)",),
        "perm": ("m.perm(5, 2)",), "prod": ("m.prod([2, 3, 4])",),
        "fsum": ("m.fsum([0.1] * 10)",), "copysign": ("m.copysign(1, -2)",),
        "fmod": ("m.fmod(7, 3)",), "modf": ("m.modf(1.5)",),
        "remainder": ("m.remainder(7, 3)",), "dist": ("m.dist([0, 0], [3, 4])",),
    },
    "json": {
        "dumps": ("m.dumps({'a': [1, 'x']})", "m.dumps({'b': 1, 'a': 2}, sort_keys=True, "
                  "indent=2)", "m.dumps([1], separators=(',', ':'))"),
        "loads": ("m.loads('[1, 2.5, null]')",),
        "JSONDecodeError": ("raises(lambda: m.loads('{'), m.JSONDecodeError)",),
    },
    "datetime": {
        "date": ("m.date(2026, 1, 5).isoformat()", "m.date(2026, 1, 5).strftime('%b %d %A')",
                 "f'{m.date(2026, 1, 5):%Y-%m-%d}'", "m.date.fromisoformat('2026-01-05')"),
        "datetime": ("m.datetime(2026, 1, 5, 10, 30).isoformat()",
                     "m.datetime.strptime('2026-01-05 10:30', '%Y-%m-%d %H:%M')",
                     "m.datetime(2026, 1, 5).ctime()"),
        "time": ("m.time(10, 30).isoformat()", "m.time(10, 30).strftime('%H:%M')"),
        "timedelta": ("m.timedelta(days=1, hours=2).total_seconds()",),
        "timezone": ("m.datetime(2026, 1, 5, tzinfo=m.timezone.utc).isoformat()",
                     "str(m.timezone(m.timedelta(hours=1)))"),
        "MINYEAR": ("m.MINYEAR",), "MAXYEAR": ("m.MAXYEAR",),
        "UTC": ("m.datetime(2026, 1, 5, tzinfo=m.UTC).timestamp()",),
    },
    "decimal": {
        "Decimal": ("m.Decimal('1.10') + m.Decimal('2.205')", "m.Decimal(3) / 4"),
        **{mode: (f"m.Decimal('2.5').quantize(m.Decimal('1'), rounding=m.{mode})",
                  f"m.Decimal('-2.5').quantize(m.Decimal('1'), rounding=m.{mode})")
           for mode in ("ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN", "ROUND_UP",
                        "ROUND_FLOOR", "ROUND_CEILING")},
        "InvalidOperation": ("raises(lambda: m.Decimal('x'), m.InvalidOperation)",),
    },
    "fractions": {"Fraction": ("m.Fraction(1, 3) + m.Fraction('1/6')",
                               "m.Fraction('1.5e3') / 7", "m.Fraction(0.25)")},
    "statistics": {
        "mean": ("m.mean([1, 2, 3, 4])",), "median": ("m.median([3, 1, 2])",),
        "median_low": ("m.median_low([1, 2, 3, 4])",),
        "median_high": ("m.median_high([1, 2, 3, 4])",), "mode": ("m.mode([1, 1, 2])",),
        "multimode": ("m.multimode([1, 1, 2, 2, 3])",), "stdev": ("m.stdev([1, 2, 3])",),
        "pstdev": ("m.pstdev([1, 2, 3])",), "variance": ("m.variance([1, 2, 3])",),
        "pvariance": ("m.pvariance([1, 2, 3])",), "fmean": ("m.fmean([1, 2])",),
        "quantiles": ("m.quantiles([1, 2, 3, 4, 5], n=4)",),
        "StatisticsError": ("raises(lambda: m.mean([]), m.StatisticsError)",),
    },
    "itertools": {
        "accumulate": ("list(m.accumulate([1, 2, 3]))",
                       "list(m.accumulate([1, 2, 3], lambda a, b: a * b, initial=10))"),
        "chain": ("list(m.chain([1], (2,), 'a'))",),
        "combinations": ("list(m.combinations([1, 2, 3], 2))",),
        "compress": ("list(m.compress('abc', [1, 0, 1]))",),
        "count": ("list(m.islice(m.count(5, 2), 3))",),
        "cycle": ("list(m.islice(m.cycle('ab'), 5))",),
        "dropwhile": ("list(m.dropwhile(lambda x: x < 2, [1, 2, 1]))",),
        "filterfalse": ("list(m.filterfalse(lambda x: x % 2, range(6)))",),
        "groupby": ("[(k, list(g)) for k, g in m.groupby('aabca')]",),
        "islice": ("list(m.islice(range(10), 2, 8, 2))",),
        "pairwise": ("list(m.pairwise([1, 2, 3]))",),
        "permutations": ("list(m.permutations([1, 2, 3], 2))",),
        "product": ("list(m.product('ab', repeat=2))", "list(m.product([1, 2], 'x'))"),
        "repeat": ("list(m.repeat('x', 3))",),
        "starmap": ("list(m.starmap(pow, [(2, 3), (3, 2)]))",),
        "takewhile": ("list(m.takewhile(lambda x: x < 3, [1, 2, 3, 1]))",),
        "zip_longest": ("list(m.zip_longest([1, 2], [3], fillvalue=0))",),
        "batched": ("list(m.batched('abcde', 2))", "list(m.batched(range(4), 4))",
                    "raises(lambda: m.batched('a', 0), ValueError)"),
    },
    "collections": {
        "Counter": ("m.Counter('abcab').most_common(2)", "m.Counter(a=2, b=1).total()"),
        "defaultdict": ("m.defaultdict(int)['x']", "dict(m.defaultdict(list, {'a': [1]}))"),
        "deque": ("list(m.deque([1, 2, 3], maxlen=2))", "m.deque('ab').popleft()"),
        "OrderedDict": ("list(m.OrderedDict([('b', 1), ('a', 2)]))",),
    },
    "heapq": {
        "heappush": ("(lambda h: [m.heappush(h, 3), m.heappush(h, 1), h][-1])([])",),
        "heappop": ("m.heappop([1, 2])",),
        "heapify": ("(lambda h: [m.heapify(h), h][-1])([3, 1, 2])",),
        "heappushpop": ("m.heappushpop([1, 2], 0)",),
        "heapreplace": ("m.heapreplace([1, 2], 5)",),
        "nlargest": ("m.nlargest(2, [1, 5, 3])", "m.nlargest(1, ['a', 'bb'], key=len)"),
        "nsmallest": ("m.nsmallest(2, [4, 1, 3])",),
        "merge": ("list(m.merge([1, 3], [2, 4]))",),
    },
    "bisect": {
        "bisect": ("m.bisect([1, 2, 3], 2)",), "bisect_left": ("m.bisect_left([1, 2, 3], 2)",),
        "bisect_right": ("m.bisect_right([1, 2, 3], 2)",),
        "insort": ("(lambda a: [m.insort(a, 2), a][-1])([1, 3])",),
        "insort_left": ("(lambda a: [m.insort_left(a, 2), a][-1])([1, 3])",),
        "insort_right": ("(lambda a: [m.insort_right(a, 2), a][-1])([1, 3])",),
    },
    "textwrap": {
        "dedent": ("m.dedent('  a\\n  b')",), "indent": ("m.indent('a\\nb', '> ')",),
        "shorten": ("m.shorten('hello big world', 12)",),
        "wrap": ("m.wrap('a bc d', 3)", "m.wrap('abcdef', width=2)"),
        "fill": ("m.fill('a bc d', 3)",),
    },
}

#: What the expressions give on a Python without the name (3.11 has no batched).
FALLBACK_EXPECTED = {
    ("itertools", "batched"): ["[('a', 'b'), ('c', 'd'), ('e',)]", "[(0, 1, 2, 3)]", "True"],
}

RAISES = ("def raises(fn, kind):\n    try:\n        fn()\n    except kind:\n"
          "        return True\n    return False\n")


def raises(fn: Any, kind: type[BaseException]) -> bool:
    try:
        fn()
    except kind:
        return True
    return False


def test_every_advertised_name_has_an_exercise() -> None:
    assert set(EXERCISES) == set(DEFAULT_MODULES)
    for module, names in DEFAULT_MODULES.items():
        assert set(EXERCISES[module]) == set(names), module


def expected(module: str, name: str, expressions: tuple[str, ...]) -> list[str]:
    real = importlib.import_module(module)
    if not hasattr(real, name):
        return FALLBACK_EXPECTED[(module, name)]
    namespace = {"m": real, "raises": raises}
    return [repr(eval(expression, namespace)) for expression in expressions]


@pytest.mark.parametrize("module", sorted(EXERCISES))
async def test_every_advertised_name_works_in_a_plan(engine: ad.Engine, module: str) -> None:
    cases = sorted(EXERCISES[module].items())
    items = ", ".join(f"[{', '.join(f'repr({e})' for e in expressions)}]"
                      for _, expressions in cases)
    source = (f"import {module} as m\n\n{RAISES}\n"
              f"async def run(event, step):\n    return [{items}]\n")
    status = await run_plan(engine, source)
    assert status.status == "complete", status.error
    for (name, expressions), got in zip(cases, status.output, strict=True):
        assert got == expected(module, name, expressions), (module, name)
