#!/usr/bin/env bash
# Creates the project's virtualenv with the pinned dependency set. Called by make; safe to re-run.
set -euo pipefail
python_bin=${1:-python3}
venv=${2:-.venv}

die() { echo "bootstrap: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

command -v "$python_bin" >/dev/null || die "$python_bin not found: install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)"
"$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Python 3.11 or newer is needed; $python_bin is $("$python_bin" --version 2>&1)"

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python_bin" -m venv "$venv" 2>/dev/null; then
    echo "bootstrap: python venv support missing; installing python3-venv with apt-get" >&2
    rm -rf "$venv"
    as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv \
      || die "could not install python3-venv; install it (apt-get install python3-venv) and re-run"
    "$python_bin" -m venv "$venv"
  fi
fi
echo "bootstrap: installing pinned Python packages into $venv (first run takes about a minute)"
"$venv/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt -c requirements.lock \
  || die "pip install failed (see above); the package index must be reachable"
