#!/usr/bin/env bash
# Run the benchmarks from a fresh clone: builds benchmarks/.venv (this project, editable,
# plus dbos and pyinstrument from PyPI), then runs benchmarks/run.py with it.
#   benchmarks/run.sh [--quick] [--profile] [any other run.py option]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ] || \
        [ "$here/requirements.txt" -nt "$stamp" ]; then
    echo "installing agents_durable, dbos and pyinstrument into $venv (log: $venv/install.log)"
    if ! "$venv/bin/python" -m pip install -e "$root[postgres]" -r "$here/requirements.txt" \
            > "$venv/install.log" 2>&1; then
        tail -30 "$venv/install.log"
        exit 1
    fi
    touch "$stamp"
fi
exec "$venv/bin/python" "$here/run.py" "$@"
