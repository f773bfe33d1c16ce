"""`make run`'s promises: one stack per checkout, a clear word when busy, and nothing left
running after SIGTERM."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, start_stack, stop_stack


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in map(int, children):
            found |= {child} | _descendants(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


def test_second_run_says_the_stack_is_up_and_sigterm_stops_the_whole_tree(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process, _outputs = start_stack(state)
    try:
        children = _descendants(process.pid)
        assert len(children) >= 2, "DynamoDB Local and moto should be children of the stack"
        second = subprocess.run(
            [sys.executable, "-m", "infra.local.stack", "--ports", "auto", "--state-dir", str(state)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "already running" in second.stderr
        assert f"pid {process.pid}" in second.stderr
    finally:
        code = stop_stack(process)
    assert code == 0
    assert not [pid for pid in children if _alive(pid)]
    assert not (state / "outputs.json").exists()


def test_a_busy_port_is_named_with_the_way_out(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "infra.local.stack",
                "--gateway-port",
                str(port),
                "--ports",
                "auto",
                "--state-dir",
                str(tmp_path / "s"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "GATEWAY_PORT" in result.stderr


def test_ctrl_c_prints_the_site_and_logins_first_and_no_tracebacks_or_botocore_lines(tmp_path: Path) -> None:
    """As in a terminal: Ctrl-C sends SIGINT to the whole foreground process group."""
    import signal
    import time

    import requests

    state = tmp_path / "state"
    log_path = tmp_path / "terminal.txt"
    with open(log_path, "wb") as terminal:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.stack", "--ports", "auto", "--state-dir", str(state)],
            cwd=ROOT,
            stdout=terminal,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, standing in for the terminal's foreground group
        )
        try:
            deadline = time.monotonic() + 240
            while not (state / "outputs.json").exists():
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            outputs = json.loads((state / "outputs.json").read_text())
            # Warm a few functions so Lambda workers are running when Ctrl-C arrives.
            assert requests.get(outputs["ApiUrl"] + "/plans", timeout=30).ok
            assert requests.get(outputs["ApiUrl"] + "/account", timeout=30).status_code == 401
            os.killpg(process.pid, signal.SIGINT)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    printed = log_path.read_text()
    assert "Traceback" not in printed, printed
    assert "botocore" not in printed, printed
    banner = printed[printed.index("The renewal pipeline is running") :].splitlines()
    assert banner[1].split()[0] == "Website" and outputs["SiteUrl"].rstrip("/") in banner[1]
    assert outputs["DemoUserEmail"] in banner[2] and outputs["DemoUserPassword"] in banner[2]
    assert banner[3].startswith("  Store console") and outputs["DemoStaffEmail"] in banner[4]
    assert "stopping the local stack..." in printed
