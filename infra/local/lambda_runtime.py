"""A local stand-in for the Lambda service: each function runs in its own worker processes,
with its own environment and sys.path (its CodeUri, then its layers), imported through the
template's `Handler` exactly as Lambda does. Module state survives between invocations of one
worker (warm starts); a worker that overruns its timeout is killed, as Lambda would.

Workers speak line-delimited JSON over a pipe that is not their stdout, so whatever the handler
prints (Powertools logs) goes to the function's log file, not into the protocol."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")


class InvocationError(Exception):
    """The function raised, timed out or its worker died: Lambda would report a function error."""

    def __init__(self, kind: str, message: str, trace: str = "") -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.trace = trace


@dataclass
class FunctionConfig:
    name: str
    handler: str
    code_dir: Path
    layer_dirs: list[Path]
    environment: dict[str, str]
    timeout_s: float
    memory_mb: int
    log_path: Path
    max_concurrency: int = 4


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    requests: IO[bytes]
    replies: IO[bytes]
    invocations: int = 0

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class FunctionPool:
    """Up to `max_concurrency` warm workers for one function; callers wait for a free one."""

    config: FunctionConfig
    base_environment: Mapping[str, str]
    _idle: queue.LifoQueue[_Worker] = field(default_factory=queue.LifoQueue)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _started: int = 0
    _all: list[_Worker] = field(default_factory=list)
    cold_starts: int = 0

    def invoke(self, event: Any) -> Any:
        worker = self._acquire()
        try:
            result = self._call(worker, event)
        except InvocationError:
            self._discard(worker)
            raise
        except BaseException:
            self._discard(worker)
            raise
        self._idle.put(worker)
        return result

    def stop(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), []
        for worker in workers:
            _terminate(worker.process)

    def _acquire(self) -> _Worker:
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                with self._lock:
                    if self._started < self.config.max_concurrency:
                        self._started += 1
                        try:
                            return self._spawn()
                        except BaseException:
                            self._started -= 1
                            raise
                worker = self._idle.get()
            if worker.alive():
                return worker
            self._discard(worker)

    def _discard(self, worker: _Worker) -> None:
        _terminate(worker.process)
        with self._lock:
            self._started -= 1
            if worker in self._all:
                self._all.remove(worker)

    def _spawn(self) -> _Worker:
        config = self.config
        env = dict(self.base_environment)
        env.update(config.environment)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": config.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
                "_HANDLER": config.handler,
                "LAMBDA_TASK_ROOT": str(config.code_dir),
                # Lambda puts the function's code first, then /opt/python (the layers).
                "PYTHONPATH": os.pathsep.join([str(config.code_dir), *(str(p) for p in config.layer_dirs)]),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        # `make bench` only: the worker logs its invocations and AWS calls there (lambda_worker.py).
        if os.environ.get("RENEWAL_BENCH_CALL_LOG"):
            env["RENEWAL_BENCH_CALL_LOG"] = os.environ["RENEWAL_BENCH_CALL_LOG"]
        config.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(config.log_path, "ab")  # noqa: SIM115  (owned by the child from here on)
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        process = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), str(request_read), str(reply_write)],
            cwd=config.code_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            pass_fds=(request_read, reply_write),
            start_new_session=True,  # Ctrl-C in the terminal is for the stack, which stops workers itself
            # No parent-death signal here: it fires when the spawning *thread* ends, and request
            # threads are short-lived. A worker ends by itself when its request pipe closes.
        )
        log.close()
        os.close(request_read)
        os.close(reply_write)
        worker = _Worker(process, os.fdopen(request_write, "wb"), os.fdopen(reply_read, "rb"))
        self.cold_starts += 1
        with self._lock:
            self._all.append(worker)
        return worker

    def _call(self, worker: _Worker, event: Any) -> Any:
        deadline = time.time() + self.config.timeout_s
        request = {"event": event, "deadline_ms": int(deadline * 1000), "request_id": str(uuid.uuid4())}
        try:
            worker.requests.write(json.dumps(request).encode() + b"\n")
            worker.requests.flush()
        except BrokenPipeError as error:
            raise InvocationError("Runtime.ExitError", "the function's worker died") from error
        reply: list[bytes] = []
        reader = threading.Thread(target=lambda: reply.append(worker.replies.readline()), daemon=True)
        reader.start()
        # Init time counts too on a cold start, with Lambda's 10 s init allowance on top.
        reader.join(self.config.timeout_s + (10 if worker.invocations == 0 else 0))
        worker.invocations += 1
        if reader.is_alive():
            raise InvocationError("Sandbox.Timedout", f"Task timed out after {self.config.timeout_s:.2f} seconds")
        if not reply or not reply[0]:
            raise InvocationError("Runtime.ExitError", f"the worker exited; see {self.config.log_path}")
        answer = json.loads(reply[0])
        if "error" in answer:
            failure = answer["error"]
            raise InvocationError(failure["type"], failure["message"], failure.get("trace", ""))
        return answer["result"]


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
