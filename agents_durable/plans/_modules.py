"""Read-only module facades, built fresh for every activation.

A plan never receives a real module: ``import math`` binds a ``ModuleFacade`` that offers
the names the policy allows and nothing else, so ``math.pi = 3`` or ``json.decoder`` go
nowhere, and nothing one plan does to a facade is seen by another activation. Functions
that could run a long single C call or build a huge object are wrapped with argument
limits or a fuel-counting iterator.
"""

from __future__ import annotations

import bisect
import collections
import datetime
import decimal
import fractions
import heapq
import itertools
import json
import math
import statistics
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

from agents_durable.plans._guards import Guards, facade, plan_error
from agents_durable.plans._policy import PlanPolicy

__all__ = ["ModuleFacade", "make_importer"]

_REAL = {"math": math, "json": json, "datetime": datetime, "decimal": decimal,
         "fractions": fractions, "statistics": statistics, "itertools": itertools,
         "collections": collections, "heapq": heapq, "bisect": bisect, "textwrap": textwrap}


@facade(dynamic=True)
class ModuleFacade:
    """What ``import <module>`` binds in a plan: a read-only bag of vetted names."""

    __slots__ = ("_module_name", "_values")
    plan_name = "module"

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_module_name", name)
        object.__setattr__(self, "_values", values)

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


def _limited(fn: Callable[..., Any], limit: int, what: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        for arg in args:
            if isinstance(arg, int) and abs(arg) > limit:
                raise plan_error(f"{what}: arguments above {limit:,} are not allowed in plans")
        return fn(*args)

    call.__name__ = fn.__name__
    return call


def _wrappers(guards: Guards) -> dict[str, dict[str, Any]]:
    """Per-activation replacements for functions that need the budget."""
    fuel_list, fuel_iter = guards.fuel_list, guards.fuel_iter

    def consumes(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(data: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
            return fn(fuel_list(data), *args, **kwargs)

        call.__name__ = fn.__name__
        return call

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

        call.__name__ = fn.__name__
        return call

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
        guards.budget.charge(sum(len(x) for x in lists) * max(1, repeat))
        return fuel_iter(itertools.product(*lists, repeat=repeat))

    def dumps(obj: Any, *, indent: Any = None, sort_keys: bool = False,
              separators: Any = None, ensure_ascii: bool = True, default: Any = None) -> str:
        text = json.dumps(obj, indent=indent, sort_keys=sort_keys, separators=separators,
                          ensure_ascii=ensure_ascii, default=default)
        guards._check_len(len(text), "string")
        return text

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
            width = kwargs.get("width", args[0] if args else 70)
            if isinstance(width, int) and width < 1:
                raise plan_error("textwrap width must be at least 1")
            guards.budget.charge(len(text) // 16)
            return fn(text, *args, **kwargs)

        call.__name__ = fn.__name__
        return call

    stats = {name: consumes(getattr(statistics, name)) for name in (
        "mean", "median", "median_low", "median_high", "mode", "multimode", "stdev",
        "pstdev", "variance", "pvariance", "fmean", "quantiles")}
    return {
        "math": {
            "factorial": _limited(math.factorial, 2000, "math.factorial"),
            "comb": _limited(math.comb, 5000, "math.comb"),
            "perm": _limited(math.perm, 2000, "math.perm"),
            "pow": math.pow,
            "prod": prod,
            "fsum": consumes(math.fsum),
            "lcm": _limited(math.lcm, 1 << 64, "math.lcm"),
            "gcd": _limited(math.gcd, 1 << 4096, "math.gcd"),
            "isqrt": _limited(math.isqrt, 1 << 8192, "math.isqrt"),
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
            "permutations": from_pool(itertools.permutations),
            "combinations": from_pool(itertools.combinations),
            "product": product,
            **({"batched": lazy(itertools.batched)} if hasattr(itertools, "batched") else {}),
        },
        "collections": {"Counter": counter, "deque": deque, "OrderedDict": ordered_dict,
                        "defaultdict": defaultdict},
        "heapq": {"heapify": consumes_inplace(heapq.heapify, guards),
                  "nlargest": lambda n, it, key=None: heapq.nlargest(n, fuel_list(it), key),
                  "nsmallest": lambda n, it, key=None: heapq.nsmallest(n, fuel_list(it), key),
                  "merge": pools(heapq.merge)},
        "textwrap": {name: text_limited(getattr(textwrap, name))
                     for name in ("wrap", "fill", "shorten", "indent", "dedent")},
    }


def consumes_inplace(fn: Callable[[list[Any]], None], guards: Guards) -> Callable[..., None]:
    def call(items: list[Any]) -> None:
        guards.budget.charge(len(items))
        fn(items)

    return call


def make_importer(guards: Guards, policy: PlanPolicy) -> Callable[..., ModuleFacade]:
    """The ``__import__`` of one activation: fresh facades, only allowed names."""
    wrappers = _wrappers(guards)
    cache: dict[str, ModuleFacade] = {}

    def build(name: str) -> ModuleFacade:
        allowed = policy.modules.get(name)
        real = _REAL.get(name)
        if allowed is None or real is None:
            raise ImportError(f"module {name!r} is not available to plans")
        overrides = wrappers.get(name, {})
        values = {}
        for attr in sorted(allowed):
            if attr in overrides:
                values[attr] = overrides[attr]
            elif hasattr(real, attr):
                values[attr] = getattr(real, attr)
        return ModuleFacade(name, values)

    def plan_import(name: str, globals: Any = None, locals: Any = None,
                    fromlist: Any = (), level: int = 0) -> ModuleFacade:
        if level != 0 or "." in name:
            raise ImportError(f"module {name!r} is not available to plans")
        if name not in cache:
            cache[name] = build(name)
        return cache[name]

    return plan_import
