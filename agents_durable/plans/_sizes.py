"""How big a value gets when it is turned into text, measured without building the text;
and plan-safe text for any plan value.

``str``, ``repr``, f-strings, ``%`` and ``json.dumps`` build their whole result in one C
call. A list that holds the same 1 MB string a million times is cheap to build (a million
references) but renders to a terabyte, and a list nested 40 levels deep where each level
holds its child twice (``a = [a, a]``) is 40 objects that render to 2**40 items. Walking
the value first, counting every reference it will render, stops both before any text is
built. The walk itself stops as soon as the estimate passes the limit, so it costs at
most ``limit`` steps whatever the value.

The same walk notes whether the value holds anything whose own ``repr`` is not plain
data: a function (``<function f at 0x7f...>`` shows a host address), a bound method, a
generator, a host class (``<class 'agents_durable.errors.StepFailed'>`` names a host
module). Such values are rendered by ``plan_text`` instead, which writes containers
itself and shows those objects as ``<function f>``.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import types
from collections.abc import Mapping
from typing import Any

from agents_durable.errors import EventTimeout, NonRetryableError, StepFailed

__all__ = ["Opaque", "measure", "plan_class", "plan_text", "rendered_size", "safe_repr",
           "safe_str"]

_SCALARS = (bool, float, complex, type(None), datetime.date, datetime.time,
            datetime.timedelta, range, type(Ellipsis), type(NotImplemented))
_CONTAINERS = (list, tuple, set, frozenset, collections.deque)
_VIEWS: tuple[type, ...] = (type({}.keys()), type({}.values()), type({}.items()))
#: What an object of another kind (a facade, a function) is assumed to render to: its
#: text is written by ``describe``, a name and a few words.
_OTHER = 64
#: Classes whose own ``__repr__`` is short and safe (engine facades register here).
SAFE_REPR: set[type] = set()
#: Engine errors plans see by name; any other host exception class is shown to a plan
#: as its nearest Python base (a guard's ``PlanAccessError`` is an ``AttributeError``).
PLAN_ERRORS: frozenset[type] = frozenset({NonRetryableError, StepFailed, EventTimeout})


def plan_class(cls: type) -> type:
    """The class a plan may see for ``cls``: itself, or its nearest non-host base."""
    for base in cls.__mro__:
        if base in PLAN_ERRORS or not base.__module__.startswith("agents_durable"):
            return base
    return object


class Opaque:
    """Text that stands in for a value in an f-string field: formats as that text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self.text, spec)


def rendered_size(value: Any, limit: int) -> int:
    """An upper estimate of ``len(repr(value))``; returns early once it exceeds ``limit``.

    Shared references are counted every time they are reached, as rendering does. A value
    that holds itself renders as ``[...]`` and is counted once per path, which also ends.
    """
    return measure(value, limit)[0]


def measure(value: Any, limit: int) -> tuple[int, bool]:
    """``rendered_size`` and whether the value holds something ``describe`` must write."""
    total = 0
    opaque = False
    stack: list[tuple[Any, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        kind = type(item)
        if kind is str or kind is bytes:
            total += len(item) + 2
        elif kind is int:
            total += item.bit_length() * 10 // 33 + 2
        elif isinstance(item, _SCALARS):
            total += 48
            tz = getattr(item, "tzinfo", None)
            if tz is not None:  # a timezone's name can be a long string
                push((tz, depth + 1))
        elif kind is datetime.timezone:
            total += 64 + len(item.tzname(None) or "")
        elif isinstance(item, decimal.Decimal):
            total += len(item.as_tuple().digits) + 24
        elif isinstance(item, fractions.Fraction):
            total += (item.numerator.bit_length() + item.denominator.bit_length()) * 10 // 33
            total += 16
        elif isinstance(item, Mapping) or kind in _VIEWS:
            total += 24 + 4 * len(item)
            if kind is collections.defaultdict:
                push((item.default_factory, depth + 1))
            if depth < 1000:
                if kind in _VIEWS:
                    for child in item:
                        push((child, depth + 1))
                else:
                    for key, child in item.items():
                        push((key, depth + 1))
                        push((child, depth + 1))
        elif isinstance(item, _CONTAINERS):
            total += 24 + 2 * len(item)
            if depth < 1000:
                for child in item:
                    push((child, depth + 1))
        elif kind is slice:
            total += 12
            push((item.start, depth + 1))
            push((item.stop, depth + 1))
            push((item.step, depth + 1))
        elif isinstance(item, BaseException):
            total += 32 + len(kind.__name__)
            opaque = opaque or plan_class(kind) is not kind
            push((item.args, depth + 1))
        elif kind in SAFE_REPR:  # its own repr is safe; ``describe`` uses it
            total += 320
            opaque = True
        else:
            opaque = True
            total += _OTHER
        if total > limit:
            return total, opaque
    return total, opaque


def describe(value: Any) -> str:
    """The plan-visible text of an object whose own ``repr`` would show host details."""
    if isinstance(value, type):
        return f"<class {plan_class(value).__name__!r}>"
    if isinstance(value, types.FunctionType):
        code = value.__code__
        if code.co_filename.startswith("<plan"):
            return f"<function {value.__name__}>"
        kind = "method" if getattr(value, "plan_method", False) else "function"
        return f"<built-in {kind} {value.__name__}>"
    if isinstance(value, (types.BuiltinFunctionType, types.MethodType,
                          types.MethodWrapperType, types.WrapperDescriptorType,
                          types.MethodDescriptorType)):
        owner = getattr(value, "__self__", None)
        name = getattr(value, "__name__", "?")
        if owner is None or isinstance(owner, types.ModuleType):
            return f"<built-in function {name}>"
        return f"<built-in method {name}>"
    kind = type(value)
    if kind in SAFE_REPR:
        return repr(value)
    return f"<{kind.__name__} object>"


def plan_text(value: Any, mode: str = "repr") -> str:
    """``repr(value)`` (``mode="repr"``), ``str(value)`` or ``ascii(value)`` as a plan may see
    it: containers written here, opaque objects shown by ``describe``.

    Call it only after ``measure`` found the value within the text limit: the walk
    below is as long as the text.
    """
    parts: list[str] = []
    _write(value, mode, parts, set())
    text = "".join(parts)
    return text.encode("ascii", "backslashreplace").decode() if mode == "ascii" else text


def _write(value: Any, mode: str, out: list[str], active: set[int]) -> None:
    kind = type(value)
    if kind is str:
        out.append(value if mode == "str" else repr(value))
        return
    if (kind in (int, bytes) or isinstance(value, (*_SCALARS, decimal.Decimal,
                                                   fractions.Fraction, datetime.timezone))):
        out.append(str(value) if mode == "str" else repr(value))
        return
    inner = "ascii" if mode == "ascii" else "repr"
    key = id(value)
    if key in active:
        out.append("[...]" if kind is list else "{...}" if isinstance(value, dict) else "...")
        return
    active.add(key)
    try:
        _write_container(value, kind, mode, inner, out, active)
    finally:
        active.discard(key)


def _write_container(value: Any, kind: type, mode: str, inner: str, out: list[str],
                     active: set[int]) -> None:
    def items(values: Any, open_: str, close: str) -> None:
        out.append(open_)
        for i, child in enumerate(values):
            if i:
                out.append(", ")
            _write(child, inner, out, active)
        out.append(close)

    def pairs(mapping: Any) -> None:
        out.append("{")
        for i, (k, v) in enumerate(mapping.items()):
            if i:
                out.append(", ")
            _write(k, inner, out, active)
            out.append(": ")
            _write(v, inner, out, active)
        out.append("}")

    if kind is list:
        items(value, "[", "]")
    elif kind is tuple:
        items(value, "(", ",)" if len(value) == 1 else ")")
    elif kind is set:
        items(value, "{", "}") if value else out.append("set()")
    elif kind is frozenset:
        if value:
            items(value, "frozenset({", "})")
        else:
            out.append("frozenset()")
    elif kind is collections.deque:
        items(value, "deque([", "])" if value.maxlen is None else f"], maxlen={value.maxlen})")
    elif kind is dict:
        pairs(value)
    elif kind is collections.defaultdict:
        out.append("defaultdict(")
        _write(value.default_factory, inner, out, active)
        out.append(", ")
        pairs(value)
        out.append(")")
    elif kind is collections.OrderedDict:
        items(value.items(), "OrderedDict([", "])") if value else out.append("OrderedDict()")
    elif kind is collections.Counter:
        out.append("Counter(")
        pairs(dict(value.most_common()))
        out.append(")")
    elif kind in _VIEWS:
        items(value, f"{kind.__name__}([", "])")
    elif kind is slice:
        items((value.start, value.stop, value.step), "slice(", ")")
    elif isinstance(value, BaseException):
        args = value.args
        if mode == "str":
            if len(args) == 1:
                _write(args[0], "str", out, active)
            elif args:
                _write(args, inner, out, active)
        else:
            out.append(plan_class(type(value)).__name__)
            items(args, "(", ")")
    elif isinstance(value, Mapping):
        pairs(value)
    else:
        out.append(describe(value))


def safe_repr(value: Any, limit: int) -> str:
    """``repr(value)`` for host text that shows a plan value (an error message, a step
    name): measured first, never longer than ``limit`` characters, no host addresses,
    always valid UTF-8 (lone surrogates are escaped)."""
    return _safe(value, limit, "repr")


def safe_str(value: Any, limit: int) -> str:
    """``str(value)`` with the guarantees of ``safe_repr``."""
    return _safe(value, limit, "str")


def _safe(value: Any, limit: int, mode: str) -> str:
    if type(value) is str and len(value) > limit:
        value = value[:limit + 1]  # a long string is cut, not refused
    cap = max(4 * limit, 100_000)  # rendering this much and cutting it is cheap
    size, _ = measure(value, cap)
    if size > cap:
        return f"<{type(value).__name__} too large to show: about {size:,}+ characters>"
    text = plan_text(value, mode)
    if len(text) > limit:
        text = text[:limit] + " [...]"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
