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
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from agents_durable.plans._budget import Budget
from agents_durable.plans._policy import PlanPolicy
from agents_durable.plans._sizes import rendered_size

__all__ = ["STANDINS", "Guards", "facade", "plan_error"]

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
            "_add_": self.add,
            "_mul_": self.mul,
            "_pow_": self.pow,
            "_lshift_": self.lshift,
            "_mod_": self.mod,
            "_render_": self.render,
            "_join_text_": self.join_text,
        }

    def render(self, value: Any) -> Any:
        """Pass ``value`` through if turning it into text stays within the string limit.

        Called around every f-string field and by ``str``, ``repr``, ``print`` and ``%``:
        a shared or deeply aliased container renders to far more text than it holds.
        """
        kind = type(value)
        if kind is str:
            return value
        if kind is int or kind is float or kind is bool or value is None:
            return value
        size = rendered_size(value, self.max_str)
        if size > self.max_str:
            self.budget.trip(f"the plan tried to turn a value of about {size:,}+ characters "
                             f"into text; the limit is {self.max_str:,}")
        self.budget.charge(size // 64)
        return value

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
        allowed = ATTRIBUTES.get(kind)
        if allowed is not None and name in allowed:
            return getattr(obj, name)
        wrapped = self._wrapped_method(obj, name)
        if wrapped is not None:
            return wrapped
        if kind in STANDINS:
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

                return pad
        elif (kind in (list, collections.deque) and name == "extend") or (
                kind is collections.deque and name == "extendleft"):
            method = getattr(obj, name)

            def extend(items: Iterable[Any]) -> None:
                items = self.fuel_list(items)
                self._check_len(len(obj) + len(items), "list")
                method(items)

            return extend
        elif name == "copy" and kind in (*_SIZED_MUTABLE, frozenset):
            def copy() -> Any:
                self.budget.charge(len(obj))
                return obj.copy()

            return copy
        elif kind is collections.Counter and name == "elements":
            return lambda: self.fuel_iter(obj.elements())
        return None

    def _str_join(self, sep: str) -> Callable[[Iterable[Any]], str]:
        def join(items: Iterable[Any]) -> str:
            parts = self.fuel_list(items)
            total = sum(len(p) for p in parts if isinstance(p, str))
            self._check_len(total + len(sep) * max(0, len(parts) - 1), "string")
            self.budget.charge(total // 64)
            return sep.join(parts)

        return join

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

        return replace

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

    def fuel_iter(self, items: Iterable[Any]) -> Iterator[Any]:
        """Iterate ``items``, ticking the budget once per item."""
        tick = self.budget.tick
        for item in self.getiter(items):
            tick()
            yield item

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

    def unpack_sequence(self, it: Any, spec: Any, getiter: Any) -> Any:
        return guarded_unpack_sequence(it, spec, self.getiter)

    def iter_unpack_sequence(self, it: Any, spec: Any, getiter: Any) -> Any:
        return guarded_iter_unpack_sequence(it, spec, self.getiter)

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

    def add(self, a: Any, b: Any) -> Any:
        kind = type(a)
        if kind is int or kind is float:
            return a + b
        if (kind in _SEQUENCES or kind is collections.deque) and type(b) is kind:
            total = len(a) + len(b)
            self._check_len(total, "string" if kind is str else "sequence")
            if kind is not str:
                self.budget.charge(total)
            elif total > 4096:
                self.budget.charge(total // 64)
        return a + b

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
        if isinstance(b, int) and b > 1 and isinstance(a, (int, fractions.Fraction)):
            base_bits = _bits(a)
            if base_bits > 1:
                self._check_bits((base_bits - 1) * b if b < self.max_bits else b)
        elif (isinstance(b, int) and b > 1 and isinstance(a, decimal.Decimal)
              and b > self.max_bits):
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
            result = a % b
            self._check_len(len(result), "string")
            return result
        if type(a) is bytes:
            raise plan_error("bytes %-formatting is not available in plans")
        return a % b

    def inplace(self, op: str, x: Any, y: Any) -> Any:
        guard = _INPLACE.get(op)
        if guard is not None:
            return getattr(self, guard)(x, y)
        return _INPLACE_PLAIN[op](x, y)


#: bits(exponent) * (64-bit limbs of the modulus)**2 above which pow(a, b, m) is refused:
#: a 4096-bit RSA-sized exponentiation is ~2e7 and takes milliseconds.
_MODULAR_POW_COST = 50_000_000

_INPLACE = {"+=": "add", "*=": "mul", "**=": "pow", "<<=": "lshift", "%=": "mod"}
_INPLACE_PLAIN: dict[str, Callable[[Any, Any], Any]] = {
    "-=": operator.isub, "/=": operator.itruediv, "//=": operator.ifloordiv,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul,
}


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


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
    name = getattr(type(obj), "plan_name", None) or type(obj).__name__
    return f"a {name} object"
