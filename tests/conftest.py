"""Shared fixtures. Integration and end-to-end tests run against one local stack started on
free ports for the session (`python -m infra.local.stack --ports auto`), exactly as `make run`
starts it. Set RENEWAL_OUTPUTS=<outputs.json> to run the end-to-end tests against a stack that
is already up (another `make run`, or a deployed stack's outputs in the same shape)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 240
# As template.yaml's Globals set it for every function: use cases that add metrics in-process
# (long property tests add over 100) flush them the way a function would.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Renewal")


def start_stack(state_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    outputs_path = state_dir / "outputs.json"
    log = open(state_dir.parent / f"{state_dir.name}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.stack", "--ports", "auto", "--state-dir", str(state_dir), *extra],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not outputs_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            text = Path(log.name).read_text(errors="replace")[-4000:]
            pytest.fail(f"the local stack did not start (exit {process.returncode}):\n{text}")
        time.sleep(0.2)
    return process, json.loads(outputs_path.read_text())


def stop_stack(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    given = os.environ.get("RENEWAL_OUTPUTS")
    if given:
        yield json.loads(Path(given).read_text())
        return
    process, found = start_stack(tmp_path_factory.mktemp("stack") / "state")
    try:
        yield found
    finally:
        stop_stack(process)


@pytest.fixture(scope="session")
def is_local(outputs: dict[str, str]) -> bool:
    return "AwsEndpointUrl" in outputs


@pytest.fixture
def new_customer(outputs: dict[str, str]) -> dict[str, Any]:
    """A freshly signed-up, confirmed customer and their ID token."""
    from infra.local.client import log_in, new_credentials, sign_up

    email, password = new_credentials("user")
    sign_up(outputs, email, password)
    return {"email": email, "password": password, "token": log_in(outputs, email, password)}
