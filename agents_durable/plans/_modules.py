"""Read-only module facades, built fresh for every activation.

A plan never receives a real module: ``import math`` binds a ``ModuleFacade`` that offers
the names the policy allows and nothing else, so ``math.pi = 3`` or ``json.decoder`` go
nowhere, and nothing one plan does to a facade is seen by another activation. Functions
that could run a long single C call or build a huge object are wrapped with argument
limits or a fuel-counting iterator.
"""

from __future__ import annotations

import _strptime  # type: ignore[import-not-found]  # noqa: F401  (see _HOST_INTERNAL)
import bisect
import collections
import datetime
import decimal
import fractions
import heapq
import itertools
import json
import math
import re
import statistics
import sys
import textwrap
import time  # noqa: F401  (C datetime imports it at run time: see _HOST_INTERNAL)
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from agents_durable.plans._builtins import SafeType
from agents_durable.plans._guards import Guards, facade, plan_error, plan_named
from agents_durable.plans._policy import PlanPolicy

__all__ = ["ModuleFacade", "decimal_context", "make_importer"]

_REAL = {"math": math, "json": json, "datetime": datetime, "decimal": decimal,
         "fractions": fractions, "statistics": statistics, "itertools": itertools,
         "collections": collections, "heapq": heapq, "bisect": bisect, "textwrap": textwrap}

#: Host modules that C code of an allowed module imports while plan code runs:
#: ``date.strftime`` imports ``time`` and ``datetime.strptime`` imports ``_strptime``
#: through ``PyImport_Import``, which calls the ``__import__`` of the running frame's
#: builtins (the plan's) with a list as ``fromlist`` (``[]`` on 3.11+, ``["__doc__"]``
#: before). Such a call gets the real module
#: (imported above, so it is only looked up) and hands it straight back to that C code;
#: plan code cannot make that call itself (an ``import`` statement passes ``None`` or a
#: tuple, and ``__import__`` is an underscore name, refused by validation and by the
#: restricted compiler), so ``import time`` in a plan is still refused.
_HOST_INTERNAL = frozenset({"time", "_strptime"})
_C_IMPORT_FROMLISTS: tuple[list[str], ...] = ([], ["__doc__"])


@facade(dynamic=True)
class ModuleFacade:
    """What ``import <module>`` binds in a plan: a read-only bag of vetted names."""

    __slots__ = ("_module_name", "_values")
    plan_name = "module"

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_module_name", name)
        object.__setattr__(self, "_values", values)
        for attr, value in values.items():  # Python's errors quote a wrapper's own name
            if getattr(value, "__module__", None) == __name__ and callable(value) and (
                    hasattr(value, "__code__") and not isinstance(value, type)):
                plan_named(value, attr)

    def __getattr__(self, name: str) -> Any:
        # Reached by `from math import sqrt` (the import opcode does a plain getattr).
        values = object.__getattribute__(self, "_values")
        if name.startswith("_") or name not in values:
            module = object.__getattribute__(self, "_module_name")
            raise ImportError(f"cannot import name {name!r} from {module!r} in a plan")
        return values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise plan_error("modules are read-only in plans")

    def __repr__(self) -> str:
        return f"<module {object.__getattribute__(self, '_module_name')!r} (plan facade)>"


def _limited(fn: Callable[..., Any], limit: int, what: str,
             guards: Guards) -> Callable[..., Any]:
    """Argument limits, and fuel per argument and per 64 bits of it: ``math.lcm(*xs)``
    over a million arguments is one C call."""
    def call(*args: Any) -> Any:
        cost = len(args)
        for arg in args:
            if isinstance(arg, int) and abs(arg) > limit:
                guards.budget.trip(f"{what}: arguments above {limit:,} are not allowed in "
                                   "plans")
            if isinstance(arg, int):
                cost += arg.bit_length() // 64
        guards.budget.charge(cost * max(1, cost.bit_length()))
        if fn is math.lcm:
            # The lcm of many small numbers is a huge one: built one argument at a time,
            # each partial result held to the int bit cap.
            result = 1
            for arg in args:
                result = guards.check_int(math.lcm(result, arg))
            return result
        return guards.check_int(fn(*args))

    return plan_named(call, fn.__name__)


#: ``Fraction("1e100000000")`` computes 10**100000000: exponents in text are checked.
_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)")


def _number_classes(guards: Guards) -> dict[str, dict[str, Any]]:
    """``Decimal`` and ``Fraction`` stand-ins that refuse numbers too big to convert.

    ``Decimal("1e100000000")`` is cheap, but ``int()``, ``round()``, ``as_integer_ratio()``
    or ``Fraction()`` of it builds a 300-million-bit integer in one C call. Decimal
    arithmetic is bounded by the activation's decimal context (see ``decimal_context``);
    these check what the constructors build exactly.
    """
    limit = guards.max_digits

    def check_text(value: Any, kind: str) -> None:
        guards.check_int(value)  # Decimal(int) of a huge int is a quadratic conversion
        if isinstance(value, str):
            guards._check_len(len(value), "string")
            if kind == "Fraction" and len(value) > limit:
                # Fraction("0.000...1") makes a denominator of 10**len: digits are bits
                guards.budget.trip(f"a Fraction written with more than {limit:,} "
                                   "characters is too large for a plan")
            for exponent in _EXPONENT.findall(value):
                if abs(int(exponent)) > limit:
                    guards.budget.trip(f"the number {value[:40]!r} has an exponent above "
                                       f"{limit:,}; plans cannot build numbers that large")

    def check_decimal(value: decimal.Decimal) -> decimal.Decimal:
        if value.is_finite() and (abs(value.adjusted()) > limit
                                  or len(value.as_tuple().digits) > limit):
            guards.budget.trip(f"a Decimal with more than {limit:,} digits or an exponent "
                               f"above {limit:,} is too large for a plan")
        return value

    def build_decimal(value: Any = "0", context: Any = None) -> decimal.Decimal:
        check_text(value, "Decimal")
        if isinstance(value, (tuple, list)):
            value = tuple(guards.fuel_list(value))
        return check_decimal(decimal.Decimal(value))

    def build_fraction(numerator: Any = 0, denominator: Any = None) -> fractions.Fraction:
        check_text(numerator, "Fraction")
        for part in (numerator, denominator):
            guards.check_int(part)
            if isinstance(part, decimal.Decimal):
                check_decimal(part)
        if denominator is None:
            return fractions.Fraction(numerator)
        return fractions.Fraction(numerator, denominator)

    safe_decimal = SafeType(decimal.Decimal, build_decimal)
    safe_fraction = SafeType(fractions.Fraction, build_fraction)
    guards.standins[decimal.Decimal] = safe_decimal
    guards.standins[fractions.Fraction] = safe_fraction
    return {"decimal": {"Decimal": safe_decimal}, "fractions": {"Fraction": safe_fraction}}


def decimal_context(guards: Guards) -> decimal.Context:
    """The decimal context plan code runs under: exponents bounded like ints' bits.

    ``decimal`` keeps its context in a context variable, so setting it in the
    activation's task leaves the host's other tasks alone.
    """
    limit = guards.max_digits
    template = _DECIMAL_CONTEXTS.get(limit)
    if template is None:  # a handful of policies: kept, never set as anyone's context
        template = _DECIMAL_CONTEXTS[limit] = decimal.Context(
            prec=28, Emax=limit, Emin=-limit,
            traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])
    return template.copy()  # each activation's own: its flags are set by plan code


#: ``max_digits`` -> the decimal context activations copy (a copy is ~6x cheaper to make).
_DECIMAL_CONTEXTS: dict[int, decimal.Context] = {}


def _wrappers(guards: Guards) -> dict[str, dict[str, Any]]:
    """Per-activation replacements for functions that need the budget."""
    fuel_list, fuel_iter = guards.fuel_list, guards.fuel_iter

    def consumes(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(data: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
            items = fuel_list(data)
            if fn.__module__ == "statistics":
                _check_exact_sum(items, guards)
            return fn(items, *args, **kwargs)

        return plan_named(call, fn.__name__)

    def lazy(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return fuel_iter(fn(*args, **kwargs))

        call.__name__ = fn.__name__
        return call

    def pools(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*iterables: Any, **kwargs: Any) -> Any:
            return fuel_iter(fn(*(fuel_list(i) for i in iterables), **kwargs))

        call.__name__ = fn.__name__
        return call

    def from_pool(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(iterable: Any, *args: Any) -> Any:
            return fuel_iter(fn(fuel_list(iterable), *args))

        return plan_named(call, fn.__name__)

    def choose(fn: Callable[..., Any]) -> Callable[..., Any]:
        """``combinations``/``permutations``: C allocates ``r`` indices (and an ``r``-tuple)
        before it looks at the pool, so ``r`` is checked first; each yielded tuple costs
        its length."""
        def call(iterable: Any, *args: Any, **kwargs: Any) -> Any:
            pool = fuel_list(iterable)
            r = kwargs.get("r", args[0] if args else None)
            if isinstance(r, int) and r > len(pool):
                return fuel_iter(iter(()))  # what Python yields for r > n, without the array
            size = len(pool) if r is None or not isinstance(r, int) else max(1, r)
            return fuel_iter(fn(pool, *args, **kwargs), max(1, size))

        return plan_named(call, fn.__name__)

    def batched(iterable: Iterable[Any], n: int) -> Any:
        """``itertools.batched`` (Python 3.12+; this implementation on 3.11): fuel per item,
        and ``n`` within the sequence limit (C allocates the ``n``-tuple up front)."""
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"batched() n must be an int, not {type(n).__name__}")
        if n < 1:
            raise ValueError("n must be at least one")
        guards._check_len(n, "batch")
        return fuel_iter(_batches(fuel_iter(iterable), n))

    def prod(iterable: Iterable[Any], *, start: Any = 1) -> Any:
        total = start
        for item in fuel_list(iterable):
            total = guards.mul(total, item)
        return total

    def accumulate(iterable: Iterable[Any], func: Any = None, *, initial: Any = None) -> Any:
        return fuel_iter(itertools.accumulate(fuel_iter(iterable), func or guards.add,
                                              initial=initial))

    def product(*iterables: Any, repeat: int = 1) -> Any:
        lists = [fuel_list(i) for i in iterables]
        if not isinstance(repeat, int) or isinstance(repeat, bool):
            raise TypeError(f"product() repeat must be an int, not {type(repeat).__name__}")
        # C builds len(iterables) * repeat pools and as many indices before the first item
        width = len(lists) * max(0, repeat)
        guards._check_len(width, "product tuple")
        guards.budget.charge(sum(len(x) for x in lists) * max(1, repeat))
        return fuel_iter(itertools.product(*lists, repeat=repeat), max(1, width))

    def dumps(obj: Any, *, indent: Any = None, sort_keys: bool = False,
              separators: Any = None, ensure_ascii: bool = True, default: Any = None) -> str:
        if not (indent is None or (isinstance(indent, int) and 0 <= indent <= 16)
                or (isinstance(indent, str) and len(indent) <= 16)):
            raise plan_error("json.dumps indent must be at most 16 in plans")
        if separators is not None and not (
                isinstance(separators, (tuple, list)) and len(separators) == 2
                and all(isinstance(part, str) and len(part) <= 16 for part in separators)):
            raise plan_error("json.dumps separators must be two short strings in plans")
        pair = None if separators is None else (str(separators[0]), str(separators[1]))
        size = guards.render_size(obj)
        if indent is None and default is None and size * 12 <= guards.max_str:
            # Small and plain: the C encoder, whose output is at most 12 characters per
            # measured one (a character escaped as a surrogate pair, ``\\ud83d\\ude00``).
            return json.dumps(obj, sort_keys=sort_keys, separators=pair,
                              ensure_ascii=ensure_ascii)
        # Indentation multiplies by depth and ``default`` returns anything: encode piece by
        # piece, counting, and stop at the string limit before the text exists.
        encoder = json.JSONEncoder(indent=indent, sort_keys=sort_keys, separators=pair,
                                   ensure_ascii=ensure_ascii, default=default)
        chunks: list[str] = []
        total = 0
        tick = guards.budget.tick
        for chunk in encoder.iterencode(obj):
            tick()
            total += len(chunk)
            if total > guards.max_str:
                guards._check_len(total, "string")
            chunks.append(chunk)
        return "".join(chunks)

    def loads(text: str) -> Any:
        if not isinstance(text, str):
            raise plan_error("json.loads takes a str in plans")
        guards._check_len(len(text), "string")
        guards.budget.charge(len(text) // 64)
        return json.loads(text)

    def counter(*args: Any, **kwargs: Any) -> collections.Counter[Any]:
        if args and not isinstance(args[0], dict):
            args = (fuel_list(args[0]), *args[1:])
        return collections.Counter(*args, **kwargs)

    def deque(iterable: Iterable[Any] = (), maxlen: int | None = None) -> Any:
        return collections.deque(fuel_list(iterable), maxlen)

    def ordered_dict(*args: Any, **kwargs: Any) -> Any:
        if args and not isinstance(args[0], dict):
            args = (fuel_list(args[0]),)
        return collections.OrderedDict(*args, **kwargs)

    def defaultdict(factory: Any = None, *args: Any) -> Any:
        if args and not isinstance(args[0], dict):
            args = (fuel_list(args[0]),)
        return collections.defaultdict(factory, *args)

    def text_limited(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(text: str, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(text, str):
                raise plan_error(f"textwrap.{fn.__name__} takes a str")
            width = kwargs.get("width", args[0] if args else 70)
            if fn is not textwrap.indent and isinstance(width, int) and width < 1:
                raise plan_error("textwrap width must be at least 1")
            if fn in (textwrap.wrap, textwrap.fill, textwrap.shorten):
                _check_wrap_cost(text, width, kwargs, guards)
            # Every line may gain a prefix/indent/placeholder: bound the result up front.
            extra = max((len(v) for v in (*args, *kwargs.values()) if isinstance(v, str)),
                        default=0)
            lines = text.count("\n") + 1 if fn is textwrap.indent else len(text) + 1
            guards._check_len(len(text) + lines * extra, "string")
            guards.budget.charge((len(text) + lines * extra) // 16)
            return fn(text, *args, **kwargs)

        return plan_named(call, fn.__name__)

    def quantiles(data: Iterable[Any], *, n: int = 4, method: str = "exclusive") -> Any:
        if not isinstance(n, int) or n > guards.max_len:
            guards.budget.trip(f"statistics.quantiles n={n!r} asks for too many cut points")
        guards.budget.charge(n)
        return statistics.quantiles(fuel_list(data), n=n, method=method)

    stats = {name: consumes(getattr(statistics, name)) for name in (
        "mean", "median", "median_low", "median_high", "mode", "multimode", "stdev",
        "pstdev", "variance", "pvariance", "fmean")}
    stats["quantiles"] = quantiles
    return {
        "math": {
            "factorial": _limited(math.factorial, 2000, "math.factorial", guards),
            "comb": _limited(math.comb, 5000, "math.comb", guards),
            "perm": _limited(math.perm, 2000, "math.perm", guards),
            "pow": math.pow,
            "prod": prod,
            "fsum": consumes(math.fsum),
            "lcm": _limited(math.lcm, 1 << 64, "math.lcm", guards),
            "gcd": _limited(math.gcd, 1 << 4096, "math.gcd", guards),
            "isqrt": _limited(math.isqrt, 1 << 8192, "math.isqrt", guards),
        },
        "json": {"dumps": dumps, "loads": loads},
        "statistics": stats,
        "itertools": {
            "count": lazy(itertools.count), "cycle": from_pool(itertools.cycle),
            "repeat": lazy(itertools.repeat), "accumulate": accumulate,
            "chain": lazy(itertools.chain), "compress": lazy(itertools.compress),
            "dropwhile": lazy(itertools.dropwhile), "filterfalse": lazy(itertools.filterfalse),
            "groupby": lazy(itertools.groupby), "islice": lazy(itertools.islice),
            "pairwise": lazy(itertools.pairwise), "starmap": lazy(itertools.starmap),
            "takewhile": lazy(itertools.takewhile), "zip_longest": pools(itertools.zip_longest),
            "permutations": choose(itertools.permutations),
            "combinations": choose(itertools.combinations),
            "product": product, "batched": batched,
        },
        "collections": {"Counter": counter, "deque": deque, "OrderedDict": ordered_dict,
                        "defaultdict": defaultdict},
        "heapq": {"heapify": consumes_inplace(heapq.heapify, guards),
                  "nlargest": lambda n, it, key=None: heapq.nlargest(n, fuel_list(it), key),
                  "nsmallest": lambda n, it, key=None: heapq.nsmallest(n, fuel_list(it), key),
                  "merge": pools(heapq.merge)},
        "textwrap": {name: text_limited(getattr(textwrap, name))
                     for name in ("wrap", "fill", "shorten", "indent", "dedent")},
        **_number_classes(guards),
    }


def _batches(items: Iterator[Any], n: int) -> Iterator[tuple[Any, ...]]:
    while batch := tuple(itertools.islice(items, n)):
        yield batch


def _check_exact_sum(items: list[Any], guards: Guards) -> None:
    """``statistics`` sums Fractions exactly: the sum's denominator is the lcm of theirs,
    which for many large distinct denominators is far past the int bit cap (and each
    step of the sum a slow gcd). Built here one item at a time, each held to the cap."""
    denominator = 1
    for item in items:
        if type(item) is fractions.Fraction and item.denominator != 1:
            denominator = guards.check_int(math.lcm(denominator, item.denominator))


def _check_wrap_cost(text: str, width: Any, options: dict[str, Any], guards: Guards) -> None:
    """``textwrap`` expands tabs (``tabsize`` per tab) and breaks a long word by copying
    the rest of it once per line (``len(word)**2 / width`` characters): both are priced
    before the call."""
    tabsize = options.get("tabsize", 8)
    if isinstance(tabsize, int) and options.get("expand_tabs", True):
        guards._check_len(len(text) + text.count("\t") * max(0, tabsize), "string")
    if isinstance(width, int) and width >= 1:
        longest = max(map(len, text.split()), default=0)
        copies = longest * longest // width
        if copies > 64 * guards.max_str:
            guards.budget.trip(f"textwrap would copy about {copies:,} characters to break a "
                               f"{longest:,}-character word into lines of {width}; use a "
                               "larger width or split the text first")
        guards.budget.charge((len(text) + copies) // 64)


def consumes_inplace(fn: Callable[[list[Any]], None], guards: Guards) -> Callable[..., None]:
    def call(items: list[Any]) -> None:
        guards.budget.charge(len(items))
        fn(items)

    return call


def make_importer(guards: Guards, policy: PlanPolicy) -> Callable[..., ModuleFacade]:
    """The ``__import__`` of one activation: fresh facades, only allowed names.

    The budget-aware wrappers are built at the activation's first import, not before:
    most activations of most plans import nothing, and building them cost more than a step.
    """
    wrappers: dict[str, dict[str, Any]] = {}
    cache: dict[str, ModuleFacade] = {}

    def build(name: str) -> ModuleFacade:
        allowed = policy.modules.get(name)
        real = _REAL.get(name)
        if allowed is None or real is None:
            raise ImportError(f"module {name!r} is not available to plans")
        if not wrappers:
            wrappers.update(_wrappers(guards))
        overrides = wrappers.get(name, {})
        values = {}
        for attr in sorted(allowed):
            if attr in overrides:
                values[attr] = overrides[attr]
            elif hasattr(real, attr):
                values[attr] = getattr(real, attr)
        return ModuleFacade(name, values)

    def plan_import(name: str, globals: Any = None, locals: Any = None,
                    fromlist: Any = (), level: int = 0) -> Any:
        if name in _HOST_INTERNAL and level == 0 and type(fromlist) is list and (
                fromlist in _C_IMPORT_FROMLISTS):
            return sys.modules[name]
        if level != 0 or "." in name:
            raise ImportError(f"module {name!r} is not available to plans")
        if name not in cache:
            cache[name] = build(name)
        return cache[name]

    return plan_import
