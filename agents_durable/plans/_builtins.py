"""The builtins a plan sees: one shared set of stateless functions, a fresh dict per activation.

Builtins that consume an iterable in one C call (``list``, ``sorted``, ``sum``, ...) would
let a plan spin or allocate without ever reaching a budget tick, so they go through a
fuel-counting iterator. ``list``, ``dict`` and friends stay usable as types: the
wrappers implement ``__instancecheck__``, so ``isinstance(x, list)`` and
``type(x) is list`` work as a plan author expects.

Why the functions are shared, and why that keeps activations apart
-------------------------------------------------------------------
Building some forty closures per activation cost more than everything else in starting
one (a herd of 10,000 woken sleepers spent a sixth of its time there). The functions are
therefore built once, at import, and read the activation they serve from a context
variable (``bind``) on every call; each activation still gets its own builtins *dict*
(``make_builtins`` returns a copy). Nothing a plan does in one activation is visible in
another, because nothing shared can be changed by plan code:

- the shared functions hold no state: every call looks up the calling activation's
  ``Guards`` (budget, limits, stand-ins) and ``PrintCapture`` in ``_ACTIVE``;
- a plan cannot change a shared function or stand-in: attribute assignment and ``del``
  go through ``Guards.write``, which lets only plain containers through; ``setattr`` and
  ``delattr`` refuse; every dunder route (``__dict__``, ``__defaults__``, ``__closure__``,
  ``__globals__``, ``__code__``) is an underscore name, rejected by RestrictedPython at
  compile time and by ``Guards.getattr`` at run time; ``SafeType`` additionally refuses
  writes itself (``__slots__``, no ``__dict__``, ``__setattr__`` raises);
- the template dict never reaches plan code (``__builtins__`` is an underscore name, and
  each activation gets ``dict(template)``); rebinding ``list = ...`` in a plan changes
  that activation's own globals only;
- ``_ACTIVE`` is set by ``bind`` in the task running the activation (around the module
  body and around ``run``); tasks copy their spawner's context, so gather branches see
  their own activation and no other; the engine spawns each activation from its
  scheduler task, whose context never holds one. A plan cannot read or set the variable
  (it lives in this module's globals, reachable only through ``__globals__``), and no plan
  object of one activation is reachable from another (nothing shared is mutable), so plan
  code of one activation never runs in another's context;
- outside any activation the functions fail closed (``RuntimeError``), never with a
  stale or default budget.

Left out on purpose: ``SystemExit``, ``KeyboardInterrupt``, ``GeneratorExit`` and
``BaseException`` (they skip a host's ``except Exception``), ``id`` (leaks addresses),
``eval``/``exec``/``compile``/``open``/``__import__`` by name, ``globals``/``locals``/
``vars``/``dir``, ``type`` with three arguments, ``object``, ``super``, ``bytes``/
``bytearray``/``memoryview``, ``iter`` with a sentinel, and ``format`` (format specs
reach attributes).
"""

from __future__ import annotations

import builtins as _py
import contextlib
import decimal
import fractions
import math
import types
from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from typing import Any

from agents_durable.errors import EventTimeout, NonRetryableError, StepFailed
from agents_durable.plans._guards import ATTRIBUTES, STANDINS, Guards, plan_error, plan_named
from agents_durable.plans._sizes import SAFE_REPR, plan_class

__all__ = ["PrintCapture", "SafeType", "make_builtins"]


class SafeType:
    """Stands in for a builtin container type: callable, usable with isinstance/type().

    Read-only once built: the builtins' stand-ins are shared by every activation.
    """

    __slots__ = ("build", "plan_name", "real")
    real: type
    build: Callable[..., Any]
    plan_name: str

    def __init__(self, real: type, build: Callable[..., Any]) -> None:
        object.__setattr__(self, "real", real)
        object.__setattr__(self, "build", build)
        object.__setattr__(self, "plan_name", real.__name__)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self.plan_name} cannot be changed")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self.plan_name} cannot be changed")

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


class _Outside:
    """What ``_ACTIVE`` holds outside any activation: every use fails closed."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("a plan builtin was called outside a plan activation")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a plan builtin was called outside a plan activation")


_OUTSIDE = (_Outside(), _Outside())

#: ``(guards, printer)`` of the activation whose plan code runs in this context.
_ACTIVE: ContextVar[tuple[Any, Any]] = ContextVar("agents_durable_plan_activation",
                                                   default=_OUTSIDE)


def bind(guards: Guards, printer: PrintCapture) -> Token[tuple[Any, Any]]:
    """Make the shared builtins serve this activation in the current context (task);
    undo with ``unbind(token)``."""
    return _ACTIVE.set((guards, printer))


def unbind(token: Token[tuple[Any, Any]]) -> None:
    """Undo ``bind``. A token from another context (an abandoned ``run`` closed by the
    garbage collector while some other task runs) is ignored: touching the current
    context would unbind that other task's activation."""
    with contextlib.suppress(ValueError):
        _ACTIVE.reset(token)


def make_builtins(guards: Guards) -> dict[str, Any]:
    """The builtins dict of one activation: a copy of the shared template (the print
    capture reaches the functions through ``bind``, done by ``instantiate``)."""
    guards.standins.update(_STANDINS)
    return dict(_TEMPLATE)


def _guards() -> Any:
    return _ACTIVE.get()[0]


def _build_list(items: Iterable[Any] = ()) -> list[Any]:
    return _guards().fuel_list(items)  # type: ignore[no-any-return]


def _build_tuple(items: Iterable[Any] = ()) -> tuple[Any, ...]:
    return tuple(_guards().fuel_list(items))


def _build_set(items: Iterable[Any] = ()) -> set[Any]:
    return set(_guards().fuel_list(items))


def _build_frozenset(items: Iterable[Any] = ()) -> frozenset[Any]:
    return frozenset(_guards().fuel_list(items))


def _build_dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    if len(args) > 1:
        raise TypeError(f"dict expected at most 1 argument, got {len(args)}")
    if args:
        guards = _guards()
        source = args[0]
        if isinstance(source, dict):
            guards.budget.charge(len(source))
            result = dict(source)
        else:
            result = dict(guards.fuel_list(source))
    else:
        result = {}
    result.update(kwargs)
    return result


def _build_str(*args: Any, **kwargs: Any) -> str:
    if len(args) == 1 and not kwargs:
        return str(_guards().render(args[0]))
    return str(*args, **kwargs)


def safe_type(*args: Any) -> Any:
    if len(args) != 1:
        raise plan_error("type() takes exactly one argument in plans")
    real = type(args[0])
    standins = _guards().standins
    if real in standins:
        return standins[real]
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
    return sorted(_guards().fuel_list(items), key=key, reverse=reverse)


def safe_sum(items: Iterable[Any], start: Any = 0) -> Any:
    if not isinstance(start, _NUMBERS):
        hint = ('"".join(strings)' if isinstance(start, str)
                else "itertools.chain(...) or a loop with .extend()")
        raise TypeError(f"sum() adds numbers in plans; for a {_kind_name(start)} start "
                        f"use {hint}")
    guards = _guards()
    total = start
    for item in guards.fuel_list(items):
        total = guards.add(total, item)
    return total


def _consuming(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 1:
            return fn(_guards().fuel_list(args[0]), **kwargs)
        return fn(*args, **kwargs)

    return plan_named(call, fn.__name__)


def safe_int(*args: Any, **kwargs: Any) -> int:
    guards = _guards()
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


def _int_text(fn: Callable[[Any], str]) -> Callable[[Any], str]:
    def call(number: Any) -> str:
        _guards().check_int(number)
        return fn(number)

    return plan_named(call, fn.__name__)


def safe_round(number: Any, *ndigits: Any) -> Any:
    guards = _guards()
    if ndigits and isinstance(ndigits[0], int) and abs(ndigits[0]) > guards.max_digits:
        # round(5, -10**7) computes 10**10**7; Fraction too.
        guards.budget.trip(f"round() with ndigits={ndigits[0]:,} is not allowed in "
                           f"plans; the limit is {guards.max_digits:,} digits")
    guards.check_int(number)
    return guards.check_int(round(number, *ndigits))


def safe_divmod(a: Any, b: Any) -> Any:
    _guards().check_operands(a, b)
    return divmod(a, b)


def safe_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    guards = _guards()
    return guards.pow(base, exp) if mod is None else guards.pow(base, exp, mod)


def safe_iter(obj: Any, *sentinel: Any) -> Any:
    if sentinel:
        raise plan_error("iter(callable, sentinel) is not allowed in plans; use a loop")
    return _guards().getiter(obj)


def safe_range(*args: int) -> range:
    result = range(*args)
    guards = _guards()
    if len(result) > guards.max_len:
        guards.budget.trip(f"the plan asked for a range of {len(result):,} numbers; the "
                           f"limit is {guards.max_len:,}")
    return result


def safe_enumerate(items: Iterable[Any], start: int = 0) -> Any:
    return enumerate(_guards().fuel_iter(items), start)


def safe_getattr(obj: Any, name: str, *default: Any) -> Any:
    return _guards().getattr(obj, name, *default)


def safe_hasattr(obj: Any, name: str) -> bool:
    try:
        _guards().getattr(obj, name)
    except AttributeError:
        return False
    return True


def safe_setattr(obj: Any, name: str, value: Any) -> None:
    raise plan_error("setattr() is not available in plans; use a dict")


def safe_repr(obj: Any) -> str:
    return _py.repr(_guards().render(obj))


def safe_ascii(obj: Any) -> str:
    return _py.ascii(_guards().render(obj))


def safe_print(*args: Any, sep: Any = " ", end: Any = "\n") -> None:
    for name, value in (("sep", sep), ("end", end)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"print() {name} must be None or a string, not "
                            f"{_kind_name(value)}")
    guards, printer = _ACTIVE.get()
    printer(*(guards.render(arg) for arg in args), sep=sep, end=end)


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


def _template() -> tuple[dict[str, Any], dict[type, Any]]:
    """The builtins every activation copies, and the stand-ins ``type()`` returns."""
    standins: dict[type, Any] = {
        list: SafeType(list, _build_list), tuple: SafeType(tuple, _build_tuple),
        set: SafeType(set, _build_set), frozenset: SafeType(frozenset, _build_frozenset),
        dict: SafeType(dict, _build_dict), str: SafeType(str, _build_str),
        int: SafeType(int, safe_int)}
    namespace: dict[str, Any] = dict(_PLAIN_BUILTINS)
    namespace.update({
        "list": standins[list], "tuple": standins[tuple], "set": standins[set],
        "frozenset": standins[frozenset], "dict": standins[dict], "str": standins[str],
        "type": safe_type, "isinstance": safe_isinstance, "sorted": safe_sorted,
        "sum": safe_sum, "min": _consuming(min), "max": _consuming(max),
        "any": _consuming(any), "all": _consuming(all), "iter": safe_iter,
        "range": safe_range, "enumerate": safe_enumerate, "getattr": safe_getattr,
        "hasattr": safe_hasattr, "setattr": safe_setattr, "delattr": safe_setattr,
        "repr": safe_repr, "ascii": safe_ascii, "print": safe_print,
        "NonRetryableError": NonRetryableError, "StepFailed": StepFailed,
        "EventTimeout": EventTimeout, "int": standins[int],
        "hex": _int_text(hex), "oct": _int_text(oct), "bin": _int_text(bin),
        "round": safe_round, "divmod": safe_divmod, "abs": _py.abs, "pow": safe_pow,
    })
    for function in (_build_list, _build_tuple, _build_set, _build_frozenset, _build_dict,
                     _build_str, safe_int):
        plan_named(function, function.__name__.removeprefix("_build_").removeprefix("safe_"))
    for name, value in namespace.items():  # Python's errors quote a wrapper's own name
        if isinstance(value, types.FunctionType) and value.__module__ == __name__:
            plan_named(value, name)
    return namespace, standins


_TEMPLATE, _STANDINS = _template()
