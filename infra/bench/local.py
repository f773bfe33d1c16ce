"""The bench's own local stack (free ports, its own state folder) and what it reads off it: the
workers' call logs (lambda_worker.py, RENEWAL_BENCH_CALL_LOG) and the CPU time of every process
of the stack, by kind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 300


@dataclass
class BenchStack:
    process: subprocess.Popen[bytes]
    outputs: dict[str, str]
    call_log: Path
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


UNTHROTTLED = ("ApiThrottleRate", "ApiThrottleBurst", "PublicThrottleRate", "PublicThrottleBurst")


def start(state_dir: Path) -> BenchStack:
    """`python -m infra.local.stack --ports auto`, as the tests start it, with the call log on."""
    state_dir.mkdir(parents=True, exist_ok=True)
    call_log = state_dir / "calls"
    call_log.mkdir(exist_ok=True)
    outputs_path = state_dir / "state" / "outputs.json"
    log_path = state_dir / "stack.log"
    log = open(log_path, "wb")  # noqa: SIM115  (the stack's output for as long as it runs)
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "infra.local.stack", "--ports", "auto", "--state-dir", str(state_dir / "state")),
            # The bench measures our code, not the gateway's throttling (which a load this size would trip).
            *(f"--parameter={name}=100000" for name in UNTHROTTLED),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "RENEWAL_BENCH_CALL_LOG": str(call_log)},
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not outputs_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the local stack did not start; see {log_path}:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return BenchStack(process, json.loads(outputs_path.read_text()), call_log, log_path)


# ---------------------------------------------------------------------- call logs
def read_calls(folder: Path) -> list[dict[str, Any]]:
    """Every line every worker wrote so far (a partly written last line is skipped)."""
    lines: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        for text in path.read_text().splitlines():
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError:
                continue
    return lines


def first_requests(folder: Path) -> dict[str, dict[str, Any]]:
    """Per function, from the call log: the CPU of each worker's first request (the one right
    after its init, so what a cold invocation adds to init) and the median of its later ones."""
    from statistics import median

    firsts: dict[str, list[float]] = {}
    later: dict[str, list[float]] = {}
    for path in sorted(folder.glob("*.jsonl")):  # one file per worker process
        first_seen = False
        for text in path.read_text().splitlines():
            try:
                line = json.loads(text)
            except json.JSONDecodeError:
                continue
            if line.get("t") != "inv":
                continue
            (later if first_seen else firsts).setdefault(function_of(line["fn"]), []).append(float(line["cpu_ms"]))
            first_seen = True
    return {
        name: {
            "workers": len(cpu),
            "first_cpu_ms": median(cpu),
            "later_cpu_ms": median(later[name]) if later.get(name) else None,
        }
        for name, cpu in firsts.items()
    }


def function_of(name: str) -> str:
    """`renewal-local-WebhookFunction` -> `WebhookFunction`."""
    return name.rsplit("-", 1)[-1]


def within(lines: Iterable[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    return [line for line in lines if start <= line["start"] <= end]


# ---------------------------------------------------------------------- CPU by process kind
@dataclass
class CpuSnapshot:
    taken_at: float
    seconds: dict[int, float]
    kinds: dict[int, str]
    bench_seconds: float
    exited: set[int] = field(default_factory=set)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _kind(pid: int, root: int) -> str:
    if pid == root:
        return "stack process (gateway, SQS pollers, Stripe stand-in, scheduler)"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    if "lambda_worker.py" in command:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            name = next(
                (e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"AWS_LAMBDA_FUNCTION_NAME=")), ""
            )
        except OSError:
            name = ""
        return f"lambda:{function_of(name)}"
    if "DynamoDBLocal" in command:
        return "DynamoDB Local (Java)"
    if "aws_emulator.py" in command:  # infra/local/aws_emulator.py: moto's server
        return "moto (SQS, SES, Cognito, Secrets Manager)"
    return "other"


def cpu_snapshot(root: int) -> CpuSnapshot:
    ticks = os.sysconf("SC_CLK_TCK")
    seconds: dict[int, float] = {}
    kinds: dict[int, str] = {}
    for pid in _descendants(root):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        kinds[pid] = _kind(pid, root)
    times = os.times()
    return CpuSnapshot(time.time(), seconds, kinds, times.user + times.system)


def cpu_between(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """CPU seconds spent between two snapshots, by kind of process; workers that started in
    between count from zero, workers that ended in between are lost (the report says how many)."""
    spent: dict[str, float] = {}
    for pid, total in after.seconds.items():
        kind = after.kinds[pid]
        spent[kind] = spent.get(kind, 0.0) + total - before.seconds.get(pid, 0.0)
    spent["bench load generator (this process)"] = after.bench_seconds - before.bench_seconds
    spent["_workers_lost"] = float(len([p for p in before.seconds if p not in after.seconds]))
    return spent
