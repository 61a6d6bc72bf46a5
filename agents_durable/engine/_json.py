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
    """``value`` as JSON text of at most ``limit`` characters (ASCII, so also bytes).

    Raises ``not_json(message)`` for data JSON cannot hold and ``too_large(message)`` for
    data over the limit; ``what`` names the value in both messages.
    """
    if rendered_size(value, 2 * limit) > 2 * limit:  # measured before anything is built
        raise too_large(f"{what} would be more than {2 * limit:,} characters when turned "
                        f"into text (JSON); the limit is {limit:,}")
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise not_json(f"{what} must be JSON data (dict, list, str, int, float, bool, "
                       f"None): {exc}") from None
    if len(text) > limit:
        raise too_large(f"{what} is {len(text):,} bytes of JSON; the limit is {limit:,}")
    return text
