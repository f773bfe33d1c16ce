"""The project's Python is the runtime's minor version: infra/find_python.sh finds python3.13 on
PATH or under pyenv and says what to install when there is none; the local stack refuses to run a
function on another minor version than its template runtime."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.stack import StackError, _check_runtime

ROOT = Path(__file__).resolve().parents[2]
FIND = ROOT / "infra" / "find_python.sh"


def run(path: str, home: Path, pyenv_root: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": path, "HOME": str(home)}
    if pyenv_root is not None:
        env["PYENV_ROOT"] = str(pyenv_root)
    return subprocess.run(["/bin/bash", str(FIND), "3.13"], env=env, capture_output=True, text=True)


def fake_python(folder: Path) -> Path:
    folder.mkdir(parents=True)
    python = folder / "python3.13"
    python.write_text("#!/bin/sh\nexit 0\n")
    python.chmod(0o755)
    return python


def test_found_on_path(tmp_path: Path) -> None:
    python = fake_python(tmp_path / "bin")
    answer = run(f"{tmp_path / 'bin'}:/usr/bin:/bin", tmp_path)
    assert answer.returncode == 0 and answer.stdout.strip() == str(python)


def test_found_under_pyenv(tmp_path: Path) -> None:
    python = fake_python(tmp_path / "pyenv" / "versions" / "3.13.0" / "bin")
    answer = run("/nonexistent", tmp_path, tmp_path / "pyenv")
    assert answer.returncode == 0 and answer.stdout.strip() == str(python)
    assert run("/nonexistent", tmp_path).returncode == 1  # ~/.pyenv (HOME) has none


def test_missing_says_what_to_install(tmp_path: Path) -> None:
    answer = run("/nonexistent", tmp_path, tmp_path / "no-pyenv")
    assert answer.returncode == 1 and answer.stdout == ""
    assert "apt-get install python3.13 python3.13-venv" in answer.stderr and "pyenv install 3.13" in answer.stderr


def test_the_local_stack_runs_only_the_template_runtime() -> None:
    _check_runtime("ActivateFunction", f"python{sys.version_info.major}.{sys.version_info.minor}")
    with pytest.raises(StackError, match=r"runs on python3\.11"):
        _check_runtime("ActivateFunction", "python3.11")
    assert os.access(FIND, os.X_OK)
