"""Every handler module holds the garbage collector off during its init and turns it back on at
the end (renewal.startup): a handler that forgot `ready()` would run every request without a
collector. And its init builds its AWS clients (renewal.adapters.aws.prepare), not its first
request. Each is imported in a fresh process, as Lambda's init imports it."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest

from infra.bench.coldstart import Target, targets

AFTER_INIT = """import gc, importlib, json, os
module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
getattr(importlib.import_module(module_name), function_name)
from renewal.adapters import aws
clients = sorted(getattr(aws._per_thread, "clients", {}))
print(json.dumps({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "clients": clients}))
"""

FUNCTIONS = [t for t in targets() if t.name != "floor"]


def test_every_function_is_checked() -> None:
    assert len(FUNCTIONS) >= 9


@pytest.mark.parametrize("target", FUNCTIONS, ids=[t.name for t in FUNCTIONS])
def test_init_leaves_the_collector_on_and_init_objects_frozen(target: Target) -> None:
    environment = {**target.environment, "PYTHONPATH": os.pathsep.join(str(p) for p in target.path)}
    done = subprocess.run(
        [sys.executable, "-c", AFTER_INIT], cwd=target.cwd, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["enabled"] is True
    assert state["frozen"] > 10_000  # what init made is in the permanent generation
    # Init builds the use cases and their AWS clients, so the first request does not (every
    # function reads or writes DynamoDB).
    assert "dynamodb" in state["clients"], state


def test_ready_turns_the_collector_back_on() -> None:
    import renewal.startup

    gc.disable()
    try:
        renewal.startup.ready()
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
