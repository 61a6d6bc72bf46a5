"""Run-time guards that RestrictedPython's rewritten code calls.

Attribute access is an allow-list per type, not "anything without an underscore": a plan
can read ``"abc".upper`` but not ``"abc".format`` (which reaches attributes through format
fields). Methods and operators that can build a huge object in one C call are wrapped so
that their result size is checked, and charged to the budget, before it is built.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from agents_durable.plans._budget import Budget
from agents_durable.plans._policy import PlanPolicy
from agents_durable.plans._sizes import SAFE_REPR, Opaque, measure, plan_text, rendered_size

__all__ = ["STANDINS", "Guards", "facade", "plan_error", "plan_named"]

_MISSING = object()


class PlanAccessError(AttributeError):
    """Raised into plan code when it reaches for something it may not touch."""


def plan_error(message: str) -> PlanAccessError:
    return PlanAccessError(message)


# -- facades: our own objects that plans may hold ------------------------------------------

#: type -> public attribute names, for the engine's own objects (event, step, tools, ...).
#: ``None`` marks a dynamic facade whose own ``__getattr__`` decides (module facades).
FACADE_ATTRIBUTES: dict[type, frozenset[str] | None] = {}


def facade(*names: str, dynamic: bool = False) -> Callable[[type], type]:
    """Class decorator: plans may read exactly these attributes of instances.

    ``dynamic=True``: the class's ``__getattr__`` serves its public names itself; its
    real attributes must all start with an underscore.
    """

    def register(cls: type) -> type:
        FACADE_ATTRIBUTES[cls] = None if dynamic else frozenset(names)
        SAFE_REPR.add(cls)  # facades write their own short repr, without addresses
        return cls

    return register


# -- plain attribute allow-lists -------------------------------------------------------------

_STR = frozenset({
    "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
    "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isspace",
    "istitle", "isupper", "lower", "lstrip", "partition", "removeprefix", "removesuffix",
    "rfind", "rindex", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith",
    "strip", "swapcase", "title", "upper",
})
_LIST = frozenset({"append", "clear", "count", "index", "insert", "pop", "remove", "reverse",
                   "sort"})
_DICT = frozenset({"clear", "get", "items", "keys", "pop", "popitem", "setdefault", "update",
                   "values"})
_SET = frozenset({"add", "clear", "difference", "difference_update", "discard",
                  "intersection", "intersection_update", "isdisjoint", "issubset",
                  "issuperset", "pop", "remove", "symmetric_difference",
                  "symmetric_difference_update", "union", "update"})
_FROZENSET = frozenset({"difference", "intersection", "isdisjoint", "issubset", "issuperset",
                        "symmetric_difference", "union"})
_NUMBER = frozenset({"real", "imag", "conjugate", "as_integer_ratio", "is_integer"})
_INT = _NUMBER | {"bit_length", "bit_count", "numerator", "denominator"}
_DATE = frozenset({"year", "month", "day", "isoformat", "weekday", "isoweekday", "replace",
                   "strftime", "toordinal", "isocalendar", "ctime"})
_DATETIME = _DATE | {"hour", "minute", "second", "microsecond", "tzinfo", "date", "time",
                     "timestamp", "utcoffset", "astimezone", "fold", "tzname"}
_TIME = frozenset({"hour", "minute", "second", "microsecond", "tzinfo", "isoformat",
                   "replace", "strftime", "fold"})

ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _STR,
    list: _LIST,
    dict: _DICT,
    set: _SET,
    frozenset: _FROZENSET,
    tuple: frozenset({"count", "index"}),
    bool: _INT,
    int: _INT,
    float: _NUMBER | {"hex"},
    range: frozenset({"start", "stop", "step", "count", "index"}),
    datetime.date: _DATE,
    datetime.datetime: _DATETIME,
    datetime.time: _TIME,
    datetime.timedelta: frozenset({"days", "seconds", "microseconds", "total_seconds"}),
    datetime.timezone: frozenset({"utcoffset", "tzname"}),
    decimal.Decimal: frozenset({"quantize", "to_integral_value", "is_nan", "is_zero",
                                "is_signed", "is_finite", "is_infinite", "adjusted",
                                "compare", "copy_abs", "copy_negate", "normalize",
                                "as_integer_ratio", "real", "imag"}),
    fractions.Fraction: frozenset({"numerator", "denominator", "limit_denominator",
                                   "as_integer_ratio", "real", "imag"}),
    collections.Counter: _DICT | {"most_common", "subtract", "total", "elements"},
    collections.defaultdict: _DICT,
    collections.OrderedDict: _DICT | {"move_to_end"},
    collections.deque: frozenset({"append", "appendleft", "pop", "popleft", "rotate",
                                  "clear", "count", "index", "insert", "remove", "reverse",
                                  "maxlen"}),
}

#: Stand-in classes (``_builtins.SafeType``) whose ``real`` class's CLASS_ATTRIBUTES apply.
STANDINS: set[type] = set()

#: Attributes of the classes themselves (``datetime.datetime.fromisoformat``).
CLASS_ATTRIBUTES: dict[type, frozenset[str]] = {
    datetime.datetime: frozenset({"fromisoformat", "combine", "min", "max", "strptime",
                                  "fromordinal"}),
    datetime.date: frozenset({"fromisoformat", "fromordinal", "fromisocalendar", "min",
                              "max"}),
    datetime.time: frozenset({"fromisoformat", "min", "max"}),
    datetime.timedelta: frozenset({"min", "max", "resolution"}),
    datetime.timezone: frozenset({"utc"}),
    decimal.Decimal: frozenset({"from_float"}),
    fractions.Fraction: frozenset({"from_float", "from_decimal"}),
}

#: Attributes of exceptions that plans see (engine errors carry JSON data only).
EXCEPTION_ATTRIBUTES = frozenset({"step", "cause", "message", "attempts", "type"})

_SIZED_MUTABLE = (list, dict, set, collections.deque, collections.Counter,
                  collections.defaultdict, collections.OrderedDict)
_SEQUENCES = (str, bytes, list, tuple)


class Guards:
    """The guard functions for one activation, bound to its budget and policy."""

    __slots__ = ("budget", "max_bits", "max_digits", "max_len", "max_str", "standins")

    def __init__(self, budget: Budget, policy: PlanPolicy) -> None:
        self.budget = budget
        #: real class -> the per-activation stand-in plans see (``type(x)`` returns it)
        self.standins: dict[type, Any] = {}
        self.max_digits = policy.max_int_bits * 3 // 10
        self.max_bits = policy.max_int_bits
        self.max_len = policy.max_sequence_length
        self.max_str = policy.max_string_length

    # -- the names RestrictedPython's rewritten code calls -------------------------------

    def namespace(self) -> dict[str, Any]:
        budget = self.budget
        return {
            "_getattr_": self.getattr,
            "_getitem_": self.getitem,
            "_getiter_": self.getiter,
            "_write_": self.write,
            "_inplacevar_": self.inplace,
            "_apply_": _apply,
            "_unpack_sequence_": self.unpack_sequence,
            "_iter_unpack_sequence_": self.iter_unpack_sequence,
            "_tick_": budget.tick,
            "_enter_": budget.enter,
            "_exit_": budget.exit,
            "_fuel_iter_": self.fuel_iter,
            "_match_subject_": self.match_subject,
            "_add_": self.add,
            "_mul_": self.mul,
            "_pow_": self.pow,
            "_lshift_": self.lshift,
            "_mod_": self.mod,
            "_sub_": self.sub,
            "_truediv_": self.truediv,
            "_floordiv_": self.floordiv,
            "_unpack_display_": self.unpack_display,
            "_unpack_dict_": self.unpack_dict,
            "_render_": self.render,
            "_join_text_": self.join_text,
        }

    def render(self, value: Any) -> Any:
        """``value`` itself if turning it into text stays within the string limit and shows
        only data; a stand-in that formats as the plan-safe text if it holds a function,
        method or other object whose own ``repr`` shows a host address or name.

        Called around every f-string field and by ``str``, ``repr``, ``print`` and ``%``:
        a shared or deeply aliased container renders to far more text than it holds.
        """
        kind = type(value)
        if kind is str:
            return value
        if kind is int or kind is float or kind is bool or value is None:
            return value
        _, opaque = self._measure(value)
        return _PlanText(value) if opaque else value

    def render_size(self, value: Any) -> int:
        """``render``'s check, returning the measured size (``json.dumps`` uses it)."""
        return self._measure(value)[0]

    def _measure(self, value: Any) -> tuple[int, bool]:
        size, opaque = measure(value, self.max_str)
        if size > self.max_str:
            self.budget.trip(f"the plan tried to turn a value of about {size:,}+ characters "
                             f"into text; the limit is {self.max_str:,}")
        self.budget.charge(size // 64)
        return size, opaque

    def join_text(self, parts: tuple[str, ...]) -> str:
        """An f-string with several fields: check the total length before joining."""
        total = 0
        for part in parts:
            total += len(part)
        self._check_len(total, "string")
        self.budget.charge(total // 64)
        return "".join(parts)

    def getattr(self, obj: Any, name: str, default: Any = _MISSING) -> Any:
        if not isinstance(name, str):
            raise TypeError("attribute name must be a string")
        try:
            return self._getattr(obj, name)
        except AttributeError:
            if default is _MISSING:
                raise
            return default

    def _getattr(self, obj: Any, name: str) -> Any:
        if name.startswith("_"):
            raise plan_error(f"plans cannot read private attributes ({name!r})")
        kind = type(obj)
        if kind in FACADE_ATTRIBUTES:
            public = FACADE_ATTRIBUTES[kind]
            if public is None:
                try:
                    return getattr(obj, name)
                except ImportError as exc:
                    raise plan_error(str(exc)) from None
            if name in public:
                return getattr(obj, name)
            raise plan_error(f"{_describe(obj)} has no attribute {name!r} that plans can use")
        # Size-checked wrappers first: several wrapped names (``upper``, ``split``,
        # ``union``) are also on the allow-list, which would hand out the bare method.
        wrapped = self._wrapped_method(obj, name)
        if wrapped is not None:
            return wrapped
        allowed = ATTRIBUTES.get(kind)
        if allowed is not None and name in allowed:
            return getattr(obj, name)
        if kind in STANDINS:
            if obj.real is dict and name == "fromkeys":
                return self._dict_fromkeys()
            class_allowed = CLASS_ATTRIBUTES.get(obj.real)
            if class_allowed is not None and name in class_allowed:
                return getattr(obj.real, name)
        elif isinstance(obj, type):
            class_allowed = CLASS_ATTRIBUTES.get(obj)
            if class_allowed is not None and name in class_allowed:
                return getattr(obj, name)
        elif isinstance(obj, BaseException) and name in EXCEPTION_ATTRIBUTES:
            value = getattr(obj, name, _MISSING)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return value
        hint = " (use an f-string instead)" if name in ("format", "format_map") else ""
        raise plan_error(f"plans cannot use {_describe(obj)}.{name}{hint}")

    def _wrapped_method(self, obj: Any, name: str) -> Any:
        """Methods that can build large objects: size-checked closures."""
        kind = type(obj)
        if kind is str:
            if name == "join":
                return self._str_join(obj)
            if name == "replace":
                return self._str_replace(obj)
            if name in ("center", "ljust", "rjust", "zfill"):
                method = getattr(obj, name)

                def pad(width: int, *args: Any) -> str:
                    self._check_len(width, "string")
                    self.budget.charge(max(0, width) // 64)
                    return method(width, *args)  # type: ignore[no-any-return]

                return _plan_named(pad, name, method=True)
            if name in _CASE_METHODS:
                return self._str_case(obj, name)
            if name in ("split", "rsplit", "splitlines"):
                return self._str_split(obj, name)
            if name in ("startswith", "endswith"):
                return self._str_affix(obj, name)
        elif kind in (set, frozenset) and name in _SET_OPS:
            return self._set_op(obj, name)
        elif (kind in (list, collections.deque) and name == "extend") or (
                kind is collections.deque and name == "extendleft"):
            method = getattr(obj, name)

            def extend(items: Iterable[Any]) -> None:
                items = self.fuel_list(items)
                self._check_len(len(obj) + len(items), "list")
                method(items)

            return _plan_named(extend, name, method=True)
        elif name == "copy" and kind in (*_SIZED_MUTABLE, frozenset):
            def copy() -> Any:
                self.budget.charge(len(obj))
                return obj.copy()

            return _plan_named(copy, name, method=True)
        elif kind is collections.Counter and name == "elements":
            return _plan_named(lambda: self.fuel_iter(obj.elements()), name, method=True)
        return None

    def _str_case(self, text: str, name: str) -> Callable[[], str]:
        """``upper``/``lower``/``title``/... : a non-ASCII character can map to three
        (``"\u0390".upper()``), so the result is bounded by three times the input."""
        method = getattr(text, name)

        def case() -> str:
            if not text.isascii():
                self._check_len(3 * len(text), "string")
            self.budget.charge(len(text) // 64)
            return method()  # type: ignore[no-any-return]

        return _plan_named(case, name, method=True)

    def _str_split(self, text: str, name: str) -> Callable[..., list[str]]:
        """``split``/``rsplit``/``splitlines``: the number of pieces is counted (with C-speed
        ``count`` calls) and held to the sequence limit before the list is built."""
        method = getattr(text, name)

        def split(*args: Any, **kwargs: Any) -> list[str]:
            if name == "splitlines":
                pieces = sum(text.count(c) for c in _LINE_BREAKS) + 1
            else:
                sep = kwargs.get("sep", args[0] if args else None)
                maxsplit = kwargs.get("maxsplit", args[1] if len(args) > 1 else -1)
                if isinstance(sep, str) and sep:
                    pieces = text.count(sep) + 1
                else:
                    pieces = sum(text.count(c) for c in _WHITESPACE) + 1
                if isinstance(maxsplit, int) and maxsplit >= 0:
                    pieces = min(pieces, maxsplit + 1)
            self._check_len(pieces, "list")
            self.budget.charge(pieces + len(text) // 64)
            return method(*args, **kwargs)  # type: ignore[no-any-return]

        return _plan_named(split, name, method=True)

    def _str_affix(self, text: str, name: str) -> Callable[..., bool]:
        """``startswith``/``endswith`` with a tuple compares every entry: priced first."""
        method = getattr(text, name)

        def affix(prefix: Any, *args: Any) -> bool:
            if isinstance(prefix, tuple):
                cost = len(prefix)
                for entry in prefix:
                    if isinstance(entry, str):
                        cost += min(len(entry), len(text)) // 64
                self.budget.charge(cost)
            return method(prefix, *args)  # type: ignore[no-any-return]

        return _plan_named(affix, name, method=True)

    def _set_op(self, target: set[Any] | frozenset[Any], name: str) -> Callable[..., Any]:
        """Set methods that take any number of iterables: each is paid for per item, and a
        result that grows is held to the sequence limit, before the C call runs."""
        method = getattr(target, name)

        def op(*others: Any) -> Any:
            total = len(target)
            self.budget.charge(len(target))
            ready = []
            for other in others:
                if not isinstance(other, _SIZED):
                    other = self.fuel_list(other)
                else:
                    self.budget.charge(len(other))
                total += len(other)
                ready.append(other)
            if name in _SET_GROWS:
                self._check_len(total, "set")
            return method(*ready)

        return _plan_named(op, name, method=True)

    def _str_join(self, sep: str) -> Callable[[Iterable[Any]], str]:
        def join(items: Iterable[Any]) -> str:
            parts = self.fuel_list(items)
            total = sum(len(p) for p in parts if isinstance(p, str))
            self._check_len(total + len(sep) * max(0, len(parts) - 1), "string")
            self.budget.charge(total // 64)
            return sep.join(parts)

        return _plan_named(join, "join", method=True)

    def _str_replace(self, text: str) -> Callable[..., str]:
        def replace(old: str, new: str, count: int = -1) -> str:
            if isinstance(old, str) and isinstance(new, str):
                hits = text.count(old) if old else len(text) + 1
                if count >= 0:
                    hits = min(hits, count)
                growth = max(0, len(new) - len(old)) * hits
                self._check_len(len(text) + growth, "string")
                self.budget.charge((len(text) + growth) // 64)
            return text.replace(old, new, count)

        return _plan_named(replace, "replace", method=True)

    def getitem(self, obj: Any, key: Any) -> Any:
        if type(key) is slice and isinstance(obj, (*_SEQUENCES, collections.deque)):
            result = obj[key]
            self.budget.charge(len(result) // (64 if isinstance(result, str) else 1))
            return result
        if type(obj) in FACADE_ATTRIBUTES or type(obj) in STANDINS or isinstance(obj, type):
            raise plan_error(f"{_describe(obj)} cannot be indexed by plans")
        return obj[key]

    def getiter(self, obj: Any) -> Iterator[Any]:
        if type(obj) in FACADE_ATTRIBUTES or type(obj) in STANDINS:
            raise plan_error(f"{_describe(obj)} is not iterable")
        return iter(obj)

    def fuel_iter(self, items: Iterable[Any], cost: int = 1) -> Iterator[Any]:
        """Iterate ``items``, charging the budget ``cost`` per item (a tuple's length for
        ``itertools.product``)."""
        if cost == 1:
            tick = self.budget.tick
            for item in self.getiter(items):
                tick()
                yield item
        else:
            charge = self.budget.charge
            for item in self.getiter(items):
                charge(cost)
                yield item

    def _dict_fromkeys(self) -> Callable[..., dict[Any, Any]]:
        """``dict.fromkeys``, paying per key like any dict the plan builds."""
        def fromkeys(keys: Iterable[Any], value: Any = None) -> dict[Any, Any]:
            return dict.fromkeys(self.fuel_list(keys), value)

        return _plan_named(fromkeys, "fromkeys", method=True)

    def fuel_list(self, items: Iterable[Any]) -> list[Any]:
        """Materialise ``items`` into a list, paying fuel per item and respecting the cap."""
        if isinstance(items, (list, tuple, str, dict, set, frozenset, range)):
            self._check_len(len(items), "sequence")
            self.budget.charge(len(items))
            return list(items)
        result: list[Any] = []
        append = result.append
        tick = self.budget.tick
        limit = self.max_len
        for item in self.getiter(items):
            tick()
            append(item)
            if len(result) > limit:
                self._check_len(len(result), "sequence")
        return result

    def write(self, obj: Any) -> Any:
        if isinstance(obj, _SIZED_MUTABLE):
            return obj
        raise plan_error(f"plans cannot modify {_describe(obj)}")

    def unpack_display(self, kind: str, pattern: str, *chunks: Any) -> Any:
        """``[a, *xs, b, *ys]`` (and tuple and set displays, and ``f(*xs, *ys)``): every
        ``*`` part is counted and paid for, and the total held to the sequence limit,
        before the display is built. ``pattern`` has ``*`` for an unpacked part and ``-``
        for a tuple of plain items."""
        parts: list[Any] = []
        total = 0
        for flag, chunk in zip(pattern, chunks, strict=True):
            if flag == "*":
                if isinstance(chunk, _SIZED) and not isinstance(chunk, Mapping):
                    # a copy of references: charged like the bytes of a string, per 16
                    self._check_len(len(chunk), "sequence")
                    self.budget.charge(len(chunk) // 16)
                else:
                    chunk = self.fuel_list(chunk)
            total += len(chunk)
            self._check_len(total, "sequence")
            parts.append(chunk)
        flat = itertools.chain.from_iterable(parts)
        if kind == "list":
            return list(flat)
        if kind == "set":
            return set(flat)
        return tuple(flat)

    def unpack_dict(self, pattern: str, *chunks: Any) -> dict[Any, Any]:
        """``{**a, k: v, **b}``: every ``**`` mapping is paid for per key before merging."""
        result: dict[Any, Any] = {}
        for flag, chunk in zip(pattern, chunks, strict=True):
            if flag == "*":
                if not isinstance(chunk, Mapping):
                    raise TypeError(f"'{_describe(chunk)}' is not a mapping")
                self.budget.charge(len(chunk))
                result.update(chunk)
            else:
                result.update(chunk)
            self._check_len(len(result), "dict")
        return result

    def unpack_sequence(self, it: Any, spec: Any, getiter: Any) -> Any:
        # ``a, *rest = items`` copies every item in C: pay for them first.
        return guarded_unpack_sequence(self._priced(it), spec, self.getiter)

    def iter_unpack_sequence(self, it: Any, spec: Any, getiter: Any) -> Any:
        return guarded_iter_unpack_sequence(it, spec, self.getiter)

    def _priced(self, it: Any) -> Any:
        """``it`` with its items paid for: counted when sized, else ticked one by one."""
        try:
            size = len(it)
        except TypeError:
            return self.fuel_iter(it)
        self._check_len(size, "sequence")
        self.budget.charge(size)
        return it

    def match_subject(self, subject: Any) -> Any:
        """The subject of a ``match`` whose patterns copy items (``*rest``, ``**rest``)."""
        if isinstance(subject, (str, bytes)):  # never a sequence to ``match``
            return subject
        try:
            size = len(subject)
        except TypeError:
            return subject
        self._check_len(size, "sequence")
        self.budget.charge(size)
        return subject

    # -- operators ----------------------------------------------------------------------

    def _check_len(self, length: int, what: str) -> None:
        limit = self.max_str if what == "string" else self.max_len
        if length > limit:
            self.budget.trip(f"the plan tried to build a {what} of {length:,} items; the "
                             f"limit is {limit:,}")

    def _check_bits(self, bits: int) -> None:
        if bits > self.max_bits:
            self.budget.trip(f"the plan tried to build an integer of about {bits:,} bits; "
                             f"the limit is {self.max_bits:,}")

    def check_int(self, value: Any) -> Any:
        """``value`` if it is not an int (or Fraction) past the bit cap; else trip."""
        if type(value) is int:
            if value.bit_length() > self.max_bits:
                self._check_bits(value.bit_length())
        elif type(value) is fractions.Fraction:
            self._check_bits(_bits(value))
        return value

    def check_operands(self, a: Any, b: Any) -> None:
        """The int bit cap for operands of quadratic operations (``//``, ``%``,
        ``divmod``), and Fraction results, whose size is the sum of both operands'."""
        if isinstance(a, fractions.Fraction) or isinstance(b, fractions.Fraction):
            if isinstance(a, (int, fractions.Fraction)) and isinstance(
                    b, (int, fractions.Fraction)):
                self._check_bits(_bits(a) + _bits(b))
        else:
            if type(a) is int and a.bit_length() > self.max_bits:
                self._check_bits(a.bit_length())
            if type(b) is int and b.bit_length() > self.max_bits:
                self._check_bits(b.bit_length())

    def add(self, a: Any, b: Any) -> Any:
        kind = type(a)
        if kind is float:
            return a + b
        if kind is int:
            result = a + b
            if type(result) is int and result.bit_length() > self.max_bits:
                self._check_bits(result.bit_length())
            return result
        if kind is fractions.Fraction:
            self.check_operands(a, b)
            return a + b
        if (kind in _SEQUENCES or kind is collections.deque) and type(b) is kind:
            total = len(a) + len(b)
            self._check_len(total, "string" if kind is str else "sequence")
            if kind is not str:
                self.budget.charge(total)
            elif total > 4096:
                self.budget.charge(total // 64)
        return a + b

    def sub(self, a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int:
            result = a - b
            if result.bit_length() > self.max_bits:
                self._check_bits(result.bit_length())
            return result
        self.check_operands(a, b)
        return a - b

    def truediv(self, a: Any, b: Any) -> Any:
        if type(a) is not float and type(b) is not float:
            self.check_operands(a, b)
        return a / b

    def floordiv(self, a: Any, b: Any) -> Any:
        if type(a) is not float and type(b) is not float:
            self.check_operands(a, b)
        return a // b

    def mul(self, a: Any, b: Any) -> Any:
        ta, tb = type(a), type(b)
        if ta is float or tb is float:
            return a * b
        if ta is int and tb is int:
            self._check_bits(a.bit_length() + b.bit_length())
            return a * b
        if ta in _SEQUENCES or tb in _SEQUENCES or ta is collections.deque:
            seq, times = (a, b) if tb is int or tb is bool else (b, a)
            if isinstance(times, int):
                total = len(seq) * max(0, times)
                self._check_len(total, "string" if type(seq) is str else "sequence")
                self.budget.charge(total // (64 if type(seq) is str else 1))
        elif isinstance(a, (int, fractions.Fraction)) and isinstance(
                b, (int, fractions.Fraction)):
            self._check_bits(_bits(a) + _bits(b))
        return a * b

    def pow(self, a: Any, b: Any, *modulo: Any) -> Any:
        if modulo:
            if isinstance(b, int) and isinstance(modulo[0], int) and b > 0:
                limbs = _bits(modulo[0]) // 64 + 1
                if _bits(b) * limbs * limbs > _MODULAR_POW_COST:
                    self.budget.trip("this modular power (pow(base, exp, mod)) is too costly "
                                     "for a plan; use smaller numbers or a host tool")
            return pow(a, b, *modulo)
        # Fraction ** -n is (1 / Fraction) ** n: as large as ** n
        negative = isinstance(a, fractions.Fraction) and isinstance(b, int) and b < -1
        b_size = -b if negative else b
        if isinstance(b, int) and b_size > 1 and isinstance(a, (int, fractions.Fraction)):
            base_bits = _bits(a)
            if base_bits > 1:
                self._check_bits((base_bits - 1) * b_size if b_size < self.max_bits
                                 else b_size)
        elif (isinstance(b, int) and abs(b) > 1 and isinstance(a, decimal.Decimal)
              and abs(b) > self.max_bits):
            self.budget.trip("a Decimal power this large is not allowed in plans")
        return a ** b

    def lshift(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and b > 0:
            self._check_bits(_bits(a) + b)
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if type(a) is str:
            _check_percent_format(a)
            fields = a.count("%")
            if fields:
                size = rendered_size(b, self.max_str)
                self._check_len(len(a) + fields * size, "string")
            if type(b) is tuple:
                b = tuple(self.render(item) for item in b)
            elif not isinstance(b, Mapping):
                b = self.render(b)
            elif measure(b, self.max_str)[1]:  # "%(k)s" % {"k": some_function}
                b = {key: self.render(item) for key, item in b.items()}
            result = a % b
            self._check_len(len(result), "string")
            return result
        if type(a) is bytes:
            raise plan_error("bytes %-formatting is not available in plans")
        if type(a) is not float and type(b) is not float:
            self.check_operands(a, b)
        return a % b

    def inplace(self, op: str, x: Any, y: Any) -> Any:
        guard = _INPLACE.get(op)
        if guard is not None:
            return getattr(self, guard)(x, y)
        return _INPLACE_PLAIN[op](x, y)


#: bits(exponent) * (64-bit limbs of the modulus)**2 above which pow(a, b, m) is refused:
#: a 4096-bit RSA-sized exponentiation is ~2e7 and takes milliseconds.
_MODULAR_POW_COST = 50_000_000

_INPLACE = {"+=": "add", "*=": "mul", "**=": "pow", "<<=": "lshift", "%=": "mod",
            "-=": "sub", "/=": "truediv", "//=": "floordiv"}
_INPLACE_PLAIN: dict[str, Callable[[Any, Any], Any]] = {
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul,
}


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


class _PlanText(Opaque):
    """What ``render`` hands to a formatter for a value that holds functions or other
    objects with host details in their ``repr``: the text ``plan_text`` writes."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return plan_text(self.value, "repr")

    def __str__(self) -> str:
        return plan_text(self.value, "str")

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _plan_named(fn: Callable[..., Any], name: str, *, method: bool = False,
                ) -> Callable[..., Any]:
    """Give a host wrapper the name a plan knows it by: Python's own error messages
    (``sorted() takes 1 positional argument``) quote ``__qualname__``, and ``repr`` shows
    a method wrapper (``"a".upper``) as ``<built-in method upper>``."""
    fn.__name__ = name
    fn.__qualname__ = name
    if method:
        fn.plan_method = True  # type: ignore[attr-defined]
    return fn


plan_named = _plan_named
_CASE_METHODS = frozenset({"upper", "lower", "title", "casefold", "swapcase", "capitalize"})
#: Every character ``str.splitlines`` breaks at, and every one ``str.split()`` treats as
#: white space: counting them bounds the number of pieces.
_LINE_BREAKS = ("\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
                "\u2029")
_WHITESPACE = (" ", "\t", "\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x1f",
               "\x85", "\xa0", "\u1680", *(chr(c) for c in range(0x2000, 0x200b)),
               "\u2028", "\u2029", "\u202f", "\u205f", "\u3000")
_SET_OPS = frozenset({"union", "intersection", "difference", "symmetric_difference",
                      "update", "intersection_update", "difference_update",
                      "symmetric_difference_update", "isdisjoint", "issubset",
                      "issuperset"})
_SET_GROWS = frozenset({"union", "update", "symmetric_difference",
                        "symmetric_difference_update"})
_SIZED: Any = (list, tuple, str, dict, set, frozenset, range, collections.deque,
          type({}.keys()), type({}.values()), type({}.items()))


def _bits(value: int | fractions.Fraction) -> int:
    if isinstance(value, fractions.Fraction):
        return value.numerator.bit_length() + value.denominator.bit_length()
    return abs(value).bit_length()


def _check_percent_format(template: str) -> None:
    """Refuse %-format widths or precisions that are computed (``*``) or huge."""
    i = template.find("%")
    while i != -1:
        j = i + 1
        if j < len(template) and template[j] == "(":
            j = template.find(")", j) + 1 or len(template)
        digits = ""
        while j < len(template) and template[j] in "-#0 +*.0123456789":
            if template[j] == "*":
                raise plan_error("computed %-format widths (`*`) are not allowed in plans")
            digits += template[j] if template[j].isdigit() else " "
            j += 1
        if any(int(d) > 1000 for d in digits.split()):
            raise plan_error("%-format widths above 1000 are not allowed in plans")
        i = template.find("%", j + 1)


def _describe(obj: Any) -> str:
    if isinstance(obj, type):
        return f"the class {obj.__name__}"
    if type(obj) in STANDINS:  # a stand-in for a builtin class (``dict``, ``list``...)
        return f"the class {obj.real.__name__}"
    name = getattr(type(obj), "plan_name", None)
    if not isinstance(name, str):  # a slot descriptor, not a name
        name = type(obj).__name__
    return f"a {name} object"
