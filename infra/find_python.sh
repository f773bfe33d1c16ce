#!/usr/bin/env bash
# Prints the interpreter for the project's Python minor version (the Lambda runtime's: python3.13):
# python3.13 on PATH, else one under pyenv ($PYENV_ROOT or ~/.pyenv). Exits 1, saying what a fresh
# machine needs, when there is none. Used by the Makefile (PYTHON) and infra/bootstrap.sh.
set -euo pipefail
want=${1:-3.13}
if command -v "python$want" >/dev/null 2>&1 && "python$want" -c 'import sys' >/dev/null 2>&1; then
  command -v "python$want"
  exit 0
fi
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want"*/bin/python"$want"; do
  if [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done
{
  echo "find_python: no python$want found (on PATH or under ${PYENV_ROOT:-$HOME/.pyenv}/versions)."
  echo "The Lambda functions run on python$want, and the tests, the local stack and the layer's bytecode"
  echo "must use the same minor version. Install it, e.g.:"
  echo "  Debian 13 / Ubuntu 24.10+:  apt-get install python$want python$want-venv"
  echo "  anywhere else:              pyenv install $want   (https://github.com/pyenv/pyenv)"
  echo "or point the Makefile at one: make PYTHON=/path/to/python$want ..."
} >&2
exit 1
