"""``python -m agents_durable`` is the ``agents-durable`` command."""

import sys

from agents_durable.cli import main

sys.exit(main())
