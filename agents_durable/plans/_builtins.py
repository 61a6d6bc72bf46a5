"""The builtins a plan sees, built fresh for every activation.

Builtins that consume an iterable in one C call (``list``, ``sorted``, ``sum``, ...) would
let a plan spin or allocate without ever reaching a budget tick, so they go through a
fuel-counting iterator. ``list``, ``dict`` and friends stay usable as types: the
wrappers implement ``__instancecheck__``, so ``isinstance(x, list)`` and
``type(x) is list`` work as a plan author expects.

Left out on purpose: ``SystemExit``, ``KeyboardInterrupt``, ``GeneratorExit`` and
``BaseException`` (they skip a host's ``except Exception``), ``id`` (leaks addresses),
``eval``/``exec``/``compile``/``open``/``__import__`` by name, ``globals``/``locals``/
``vars``/``dir``, ``type`` with three arguments, ``object``, ``super``, ``bytes``/
``bytearray``/``memoryview``, ``iter`` with a sentinel, and ``format`` (format specs
reach attributes).
"""

from __future__ import annotations

import builtins as _py
import decimal
import fractions
import math
import types
from collections.abc import Callable, Iterable
from typing import Any

from agents_durable.errors import EventTimeout, NonRetryableError, StepFailed
from agents_durable.plans._guards import ATTRIBUTES, STANDINS, Guards, plan_error, plan_named
from agents_durable.plans._sizes import SAFE_REPR, plan_class

__all__ = ["PrintCapture", "SafeType", "make_builtins"]


class SafeType:
    """Stands in for a builtin container type: callable, usable with isinstance/type()."""

    __slots__ = ("build", "plan_name", "real")

    def __init__(self, real: type, build: Callable[..., Any]) -> None:
        self.real = real
        self.build = build
        self.plan_name = real.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.build(*args, **kwargs)

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, self.real)

    def __subclasscheck__(self, cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, self.real)

    def __repr__(self) -> str:
        return f"<class '{self.plan_name}'>"


STANDINS.add(SafeType)
SAFE_REPR.add(SafeType)

#: What ``type(value)`` may return: plain data types. Never ``type`` itself (calling it
#: with three arguments makes a class, and a class can define ``__index__`` or ``__len__``
#: to lie to the size guards), never function, method or engine types.
_TYPE_RESULTS: frozenset[type] = frozenset({*ATTRIBUTES, type(None), complex, bytes})


class PrintCapture:
    """``print`` for plans: lines go to the instance log, never to the host's stdout."""

    __slots__ = ("dropped", "enabled", "limit", "lines", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lines: list[str] = []
        self.size = 0
        self.dropped = 0
        self.enabled = True  # off while replaying, so a replay does not log twice

    def __call__(self, *args: Any, sep: str | None = " ", end: str | None = "\n") -> None:
        if not self.enabled:
            return
        separator = " " if sep is None else sep
        room = self.limit - self.size
        parts: list[str] = []
        length = 0
        for arg in args:  # stop at the first piece that does not fit: nothing huge is built
            part = str(arg)
            length += len(part) + (len(separator) if parts else 0)
            if length > room:
                self.dropped += 1
                return
            parts.append(part)
        text = separator.join(parts)
        self.size += len(text)
        # A lone surrogate ("\ud800") is a valid str but not UTF-8: the log keeps it
        # escaped, so storing and showing it always works.
        if not text.isascii():
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        self.lines.append(text)


def make_builtins(guards: Guards, printer: PrintCapture) -> dict[str, Any]:
    """A fresh builtins dict for one activation."""
    fuel_list = guards.fuel_list
    budget = guards.budget
    max_len = guards.max_len

    def build_list(items: Iterable[Any] = ()) -> list[Any]:
        return fuel_list(items)

    def build_tuple(items: Iterable[Any] = ()) -> tuple[Any, ...]:
        return tuple(fuel_list(items))

    def build_set(items: Iterable[Any] = ()) -> set[Any]:
        return set(fuel_list(items))

    def build_frozenset(items: Iterable[Any] = ()) -> frozenset[Any]:
        return frozenset(fuel_list(items))

    def build_dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
        if len(args) > 1:
            raise TypeError(f"dict expected at most 1 argument, got {len(args)}")
        if args:
            source = args[0]
            if isinstance(source, dict):
                budget.charge(len(source))
                result = dict(source)
            else:
                result = dict(fuel_list(source))
        else:
            result = {}
        result.update(kwargs)
        return result

    def build_str(*args: Any, **kwargs: Any) -> str:
        if len(args) == 1 and not kwargs:
            return str(guards.render(args[0]))
        return str(*args, **kwargs)

    safe_list = SafeType(list, build_list)
    safe_tuple = SafeType(tuple, build_tuple)
    safe_set = SafeType(set, build_set)
    safe_frozenset = SafeType(frozenset, build_frozenset)
    safe_dict = SafeType(dict, build_dict)
    by_real = guards.standins
    by_real.update({list: safe_list, tuple: safe_tuple, set: safe_set,
                    frozenset: safe_frozenset, dict: safe_dict})

    def safe_type(*args: Any) -> Any:
        if len(args) != 1:
            raise plan_error("type() takes exactly one argument in plans")
        real = type(args[0])
        if real in by_real:
            return guards.standins[real]
        if real in _TYPE_RESULTS:
            return real
        if issubclass(real, Exception):
            # The plan gets the class it could name, never a host class to instantiate.
            return plan_class(real)
        raise plan_error(f"type() of {_describe_kind(args[0])} is not available in plans; "
                         "use isinstance(value, ...) with a data type")

    def safe_isinstance(obj: Any, kinds: Any) -> bool:
        return isinstance(obj, kinds)

    def safe_sorted(items: Iterable[Any], *, key: Any = None, reverse: bool = False) -> list[Any]:
        return sorted(fuel_list(items), key=key, reverse=reverse)

    def safe_sum(items: Iterable[Any], start: Any = 0) -> Any:
        if not isinstance(start, _NUMBERS):
            hint = ('"".join(strings)' if isinstance(start, str)
                    else "itertools.chain(...) or a loop with .extend()")
            raise TypeError(f"sum() adds numbers in plans; for a {_kind_name(start)} start "
                            f"use {hint}")
        total = start
        for item in fuel_list(items):
            total = guards.add(total, item)
        return total

    def consuming(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if len(args) == 1:
                return fn(fuel_list(args[0]), **kwargs)
            return fn(*args, **kwargs)

        return plan_named(call, fn.__name__)

    def safe_int(*args: Any, **kwargs: Any) -> int:
        if args and isinstance(args[0], str):
            # int("f" * 10**6, 16) is linear but makes a 4-million-bit int; int(s) of a
            # long decimal string is quadratic. Count the bits before converting.
            base = kwargs.get("base", args[1] if len(args) > 1 else 10)
            guards._check_len(len(args[0]), "string")
            digits = len(args[0].strip().replace("_", ""))
            per_digit = math.log2(base) if isinstance(base, int) and 2 <= base <= 36 else 6
            if digits * per_digit > guards.max_bits + 64:
                guards._check_bits(math.ceil(digits * per_digit))
        return guards.check_int(int(*args, **kwargs))  # type: ignore[no-any-return]

    def int_text(fn: Callable[[Any], str]) -> Callable[[Any], str]:
        def call(number: Any) -> str:
            guards.check_int(number)
            return fn(number)

        return plan_named(call, fn.__name__)

    def safe_round(number: Any, *ndigits: Any) -> Any:
        if ndigits and isinstance(ndigits[0], int) and abs(ndigits[0]) > guards.max_digits:
            # round(5, -10**7) computes 10**10**7; Fraction too.
            guards.budget.trip(f"round() with ndigits={ndigits[0]:,} is not allowed in "
                               f"plans; the limit is {guards.max_digits:,} digits")
        guards.check_int(number)
        return guards.check_int(round(number, *ndigits))

    def safe_divmod(a: Any, b: Any) -> Any:
        guards.check_operands(a, b)
        return divmod(a, b)

    def safe_pow(base: Any, exp: Any, mod: Any = None) -> Any:
        return guards.pow(base, exp) if mod is None else guards.pow(base, exp, mod)

    def safe_iter(obj: Any, *sentinel: Any) -> Any:
        if sentinel:
            raise plan_error("iter(callable, sentinel) is not allowed in plans; use a loop")
        return guards.getiter(obj)

    def safe_range(*args: int) -> range:
        result = range(*args)
        if len(result) > max_len:
            budget.trip(f"the plan asked for a range of {len(result):,} numbers; the limit "
                        f"is {max_len:,}")
        return result

    def safe_enumerate(items: Iterable[Any], start: int = 0) -> Any:
        return enumerate(guards.fuel_iter(items), start)

    def safe_getattr(obj: Any, name: str, *default: Any) -> Any:
        return guards.getattr(obj, name, *default)

    def safe_hasattr(obj: Any, name: str) -> bool:
        try:
            guards.getattr(obj, name)
        except AttributeError:
            return False
        return True

    def safe_setattr(obj: Any, name: str, value: Any) -> None:
        raise plan_error("setattr() is not available in plans; use a dict")

    def safe_repr(obj: Any) -> str:
        return _py.repr(guards.render(obj))

    def safe_ascii(obj: Any) -> str:
        return _py.ascii(guards.render(obj))

    def safe_print(*args: Any, sep: Any = " ", end: Any = "\n") -> None:
        for name, value in (("sep", sep), ("end", end)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"print() {name} must be None or a string, not "
                                f"{_kind_name(value)}")
        printer(*(guards.render(arg) for arg in args), sep=sep, end=end)

    namespace: dict[str, Any] = dict(_PLAIN_BUILTINS)
    namespace.update({
        "list": safe_list, "tuple": safe_tuple, "set": safe_set,
        "frozenset": safe_frozenset, "dict": safe_dict, "str": SafeType(str, build_str),
        "type": safe_type, "isinstance": safe_isinstance, "sorted": safe_sorted,
        "sum": safe_sum, "min": consuming(min), "max": consuming(max),
        "any": consuming(any), "all": consuming(all), "iter": safe_iter,
        "range": safe_range, "enumerate": safe_enumerate, "getattr": safe_getattr,
        "hasattr": safe_hasattr, "setattr": safe_setattr, "delattr": safe_setattr,
        "repr": safe_repr, "ascii": safe_ascii, "print": safe_print,
        "NonRetryableError": NonRetryableError, "StepFailed": StepFailed,
        "EventTimeout": EventTimeout, "int": SafeType(int, safe_int),
        "hex": int_text(hex), "oct": int_text(oct), "bin": int_text(bin),
        "round": safe_round, "divmod": safe_divmod, "abs": _py.abs, "pow": safe_pow,
    })
    for name, value in namespace.items():  # Python's errors quote a wrapper's own name
        if isinstance(value, types.FunctionType) and value.__module__ == __name__:
            plan_named(value, name)
    by_real[int] = namespace["int"]
    by_real[str] = namespace["str"]
    return namespace


#: Builtins plans get as they are (no state, nothing to guard), looked up once.
_PLAIN_BUILTINS: dict[str, Any] = {
    name: getattr(_py, name)
    for name in (
        "all", "any", "bool", "callable", "chr",
        "filter", "float", "issubclass", "len", "map", "next",
        "ord", "reversed", "slice", "zip", "complex",
        "None", "True", "False", "NotImplemented", "Ellipsis",
        # exceptions plans may raise and catch
        "Exception", "ArithmeticError", "AssertionError", "AttributeError",
        "IndexError", "KeyError", "LookupError", "NameError", "NotImplementedError",
        "OverflowError", "RecursionError", "RuntimeError", "StopIteration",
        "TypeError", "UnicodeError", "ValueError", "ZeroDivisionError",
        "TimeoutError",
    )
}

_NUMBERS = (int, float, complex, decimal.Decimal, fractions.Fraction)


def _kind_name(obj: Any) -> str:
    return type(obj).__name__


def _describe_kind(obj: Any) -> str:
    name = getattr(type(obj), "plan_name", None)
    return f"a {name} object" if isinstance(name, str) else "this object"
