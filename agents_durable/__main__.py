"""``python -m agents_durable`` is the ``agents-durable`` command."""

from __future__ import annotations

import sys

from agents_durable.cli import main

if __name__ == "__main__":
    sys.exit(main())
