#!/usr/bin/env bash
# Creates the project's virtualenv with the pinned dependency set. Called by make; safe to re-run.
set -euo pipefail
python_bin=${1:-$(infra/find_python.sh 3.13 2>/dev/null || echo python3.13)}
venv=${2:-.venv}

die() { echo "bootstrap: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# The functions run on python3.13 (template.yaml); the tests, the local Lambda workers (this venv's
# interpreter) and the layer's bytecode must be on the same minor version.
if ! command -v "$python_bin" >/dev/null; then
  infra/find_python.sh 3.13 >/dev/null || exit 1  # says what to install
  die "$python_bin not found"
fi
"$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
  || die "Python 3.13 is needed (the Lambda runtime is python3.13); $python_bin is $("$python_bin" --version 2>&1).
  $(infra/find_python.sh 3.13 2>&1 >/dev/null || true)"
if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then
  echo "bootstrap: $venv is on $("$venv/bin/python" --version 2>&1), not 3.13: making it again" >&2
  rm -rf "$venv"
fi

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python_bin" -m venv "$venv" 2>/dev/null; then
    echo "bootstrap: python venv support missing; installing python3-venv with apt-get" >&2
    rm -rf "$venv"
    as_root apt-get update -qq && as_root apt-get install -y -qq python3.13-venv \
      || die "could not install python3.13-venv; install it (apt-get install python3.13-venv) and re-run"
    "$python_bin" -m venv "$venv"
  fi
fi
echo "bootstrap: installing pinned Python packages into $venv (first run takes about a minute)"
"$venv/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt -c requirements.lock \
  || die "pip install failed (see above); the package index must be reachable"
