"""How big a value gets when it is turned into text, measured without building the text.

``str``, ``repr``, f-strings, ``%`` and ``json.dumps`` build their whole result in one C
call. A list that holds the same 1 MB string a million times is cheap to build (a million
references) but renders to a terabyte, and a list nested 40 levels deep where each level
holds its child twice (``a = [a, a]``) is 40 objects that render to 2**40 items. Walking
the value first, counting every reference it will render, stops both before any text is
built. The walk itself stops as soon as the estimate passes the limit, so it costs at
most ``limit`` steps whatever the value.
"""

from __future__ import annotations

import collections
import decimal
from collections.abc import Mapping
from typing import Any

__all__ = ["rendered_size"]

_SCALARS = (bool, float, complex, type(None))
_CONTAINERS = (list, tuple, set, frozenset, collections.deque)
#: What an object of another kind (a facade, a function) is assumed to render to.
_OTHER = 64


def rendered_size(value: Any, limit: int) -> int:
    """An upper estimate of ``len(repr(value))``; returns early once it exceeds ``limit``.

    Shared references are counted every time they are reached, as rendering does. A value
    that holds itself renders as ``[...]`` and is counted once per path, which also ends.
    """
    total = 0
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
            total += 24
        elif isinstance(item, decimal.Decimal):
            total += len(item.as_tuple().digits) + 12
        elif isinstance(item, Mapping):
            total += 2 + 4 * len(item)
            if depth < 1000:
                for key, child in item.items():
                    push((key, depth + 1))
                    push((child, depth + 1))
        elif isinstance(item, _CONTAINERS):
            total += 2 + 2 * len(item)
            if depth < 1000:
                for child in item:
                    push((child, depth + 1))
        elif isinstance(item, BaseException):
            total += 32
            push((item.args, depth + 1))
        else:
            total += _OTHER
        if total > limit:
            return total
    return total
