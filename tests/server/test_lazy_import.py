"""The server's dependencies are an extra: the core and the CLI never import them."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_and_building_the_cli_loads_no_server_dependency() -> None:
    code = ("import sys, agents_durable, agents_durable.cli, agents_durable.server; "
            "agents_durable.cli._parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('starlette', 'uvicorn', 'prometheus_client', 'opentelemetry')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
