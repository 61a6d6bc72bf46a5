"""JSON at the engine's boundaries: params, event payloads, step results, tool calls.

Every value that crosses into or out of a plan is encoded here, once: measured before any
text is built (an aliased value such as ``a = [a, a]`` nested 40 deep is 40 objects that
render to 2**40 items), then encoded strictly (no NaN, no non-JSON types), then held to a
size limit. Each boundary raises its own error class, so the caller passes them in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from agents_durable.plans._sizes import rendered_size

__all__ = ["encode_json"]


def encode_json(value: Any, *, limit: int, what: str,
                not_json: Callable[[str], BaseException],
                too_large: Callable[[str], BaseException]) -> str:
    """``value`` as JSON text whose size is at most ``limit`` bytes.

    The size is the UTF-8 byte length of the compact JSON, so ``"é"`` counts 2 bytes, not
    the 6 of its ``\\u00e9`` escape. Raises ``not_json(message)`` for data JSON cannot hold
    and ``too_large(message)`` for data over the limit; ``what`` names the value in both
    messages.
    """
    # Measured before anything is built; a character is at least one byte, so a value
    # whose text would exceed the limit's worth of characters twice over is over it.
    if rendered_size(value, 2 * limit) > 2 * limit:
        raise too_large(f"{what} would be more than {2 * limit:,} bytes when turned into "
                        f"text (JSON); the limit is {limit:,} bytes")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise not_json(f"{what} must be JSON data (dict, list, str, int, float, bool, "
                       f"None): {exc}") from None
    if len(text) <= limit:  # ASCII: characters are bytes, and escapes only ever add
        return text
    unescaped = json.dumps(value, allow_nan=False, ensure_ascii=False)
    try:
        size = len(unescaped.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: only the escaped text can be stored
        size, unescaped = len(unescaped.encode("utf-8", "surrogatepass")), text
    if size > limit:
        raise too_large(f"{what} is {size:,} bytes of JSON (UTF-8); the limit is "
                        f"{limit:,} bytes")
    return unescaped
