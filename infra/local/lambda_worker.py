"""The process one local Lambda worker runs (started by lambda_runtime.FunctionPool).

Standalone on purpose: it imports nothing from the project, so a function sees only its own
code and its layers on sys.path, as in Lambda.

`make bench` sets RENEWAL_BENCH_CALL_LOG to a folder: each worker then writes one JSON line per
invocation and per AWS SDK call (time, CPU, DynamoDB's consumed capacity) to its own file there.
Off by default; the function's code paths are the same either way."""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback
from typing import IO, Any

CALL_LOG_VARIABLE = "RENEWAL_BENCH_CALL_LOG"
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
CAPACITY_OPERATIONS = READ_OPERATIONS | {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}


class LambdaContext:
    """What Lambda passes as `context` (the parts Powertools and our code read)."""

    def __init__(self, request_id: str, deadline_ms: int) -> None:
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{name}"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{name}")
        self.log_stream_name = "local"
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class CallLog:
    """Bench only: times every botocore call of this process (boto3's and PynamoDB's alike) and
    keeps DynamoDB's consumed capacity, asking for it (`ReturnConsumedCapacity: TOTAL`) where
    the caller did not. Lines are buffered and written after each reply, off the request path."""

    def __init__(self, folder: str) -> None:
        self.function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        self._file: IO[str] = open(os.path.join(folder, f"{self.function}-{os.getpid()}.jsonl"), "a")  # noqa: SIM115
        self._lines: list[dict[str, Any]] = []
        self.request_id: str | None = None

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        log = self

        def logged(client: Any, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            if service == "dynamodb" and operation in CAPACITY_OPERATIONS and "ReturnConsumedCapacity" not in params:
                params = {**params, "ReturnConsumedCapacity": "TOTAL"}
            started, cpu = time.time(), time.thread_time()
            answer: Any = None
            error = None
            try:
                answer = original(client, operation, params)
                return answer
            except Exception as failure:
                error = getattr(failure, "response", {}).get("Error", {}).get("Code") or type(failure).__name__
                answer = getattr(failure, "response", None)
                raise
            finally:
                log.call(service, operation, params, answer, started, cpu, error)

        BaseClient._make_api_call = logged

    def call(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        answer: Any,
        started: float,
        cpu: float,
        error: str | None,
    ) -> None:
        line: dict[str, Any] = {
            "t": "call",
            "fn": self.function,
            "rid": self.request_id,
            "svc": service,
            "op": operation,
            "start": started,
            "ms": (time.time() - started) * 1000,
            "cpu_ms": (time.thread_time() - cpu) * 1000,
        }
        if error:
            line["err"] = error
        if service == "dynamodb":
            units = _capacity_units(answer.get("ConsumedCapacity") if isinstance(answer, dict) else None)
            line["rru" if operation in READ_OPERATIONS else "wru"] = units
            if operation == "TransactWriteItems":
                line["keys"] = _transaction_keys(params)
        self._lines.append(line)

    def invocation(self, request_id: str, started: float, finished: float, cpu_used: float, failed: bool) -> None:
        self._lines.append(
            {
                "t": "inv",
                "fn": self.function,
                "rid": request_id,
                "start": started,
                "ms": (finished - started) * 1000,
                "cpu_ms": cpu_used * 1000,
                "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "failed": failed,
            }
        )

    def flush(self) -> None:
        for line in self._lines:
            self._file.write(json.dumps(line) + "\n")
        self._lines.clear()
        self._file.flush()


def _capacity_units(consumed: Any) -> float:
    entries = consumed if isinstance(consumed, list) else [consumed] if isinstance(consumed, dict) else []
    return float(sum(float(entry.get("CapacityUnits") or 0) for entry in entries))


def _transaction_keys(params: dict[str, Any]) -> list[str]:
    """`table:first key value` of each item of a transaction (which order an activation wrote)."""
    keys = []
    for item in params.get("TransactItems", []):
        for action in item.values():
            key = action.get("Key") or action.get("Item") or {}
            first: dict[str, Any] = next(iter(key.values()), {})
            keys.append(f"{action.get('TableName', '')}:{next(iter(first.values()), '')}")
    return keys


def _worker_main(request_fd: int, reply_fd: int) -> None:
    requests = os.fdopen(request_fd, "rb")
    replies = os.fdopen(reply_fd, "wb")
    call_log = CallLog(os.environ[CALL_LOG_VARIABLE]) if os.environ.get(CALL_LOG_VARIABLE) else None
    if call_log is not None:
        call_log.install()
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    handler = None
    init_error: dict[str, str] | None = None
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # reported on every invocation, as Lambda reports Runtime.ImportModuleError
        init_error = {"type": "Runtime.ImportModuleError", "message": repr(error), "trace": traceback.format_exc()}
        traceback.print_exc()
    for line in requests:
        request = json.loads(line)
        started, cpu = time.time(), time.process_time()
        if call_log is not None:
            call_log.request_id = request["request_id"]
        if init_error or handler is None:
            answer: dict[str, Any] = {"error": init_error}
        else:
            try:
                result = handler(request["event"], LambdaContext(request["request_id"], request["deadline_ms"]))
                answer = {"result": result}
            except Exception as error:
                traceback.print_exc()
                answer = {
                    "error": {"type": type(error).__name__, "message": str(error), "trace": traceback.format_exc()}
                }
        finished, cpu_used = time.time(), time.process_time() - cpu
        sys.stdout.flush()
        sys.stderr.flush()
        replies.write(json.dumps(answer, default=str).encode() + b"\n")
        replies.flush()
        if call_log is not None:
            call_log.invocation(request["request_id"], started, finished, cpu_used, "error" in answer)
            call_log.flush()


if __name__ == "__main__":
    sys.path.pop(0)  # the folder of this script is not part of the function's code
    _worker_main(int(sys.argv[1]), int(sys.argv[2]))
