"""The process one local Lambda worker runs (started by lambda_runtime.FunctionPool).

Standalone on purpose: it imports nothing from the project, so a function sees only its own
code and its layers on sys.path, as in Lambda."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


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


def _worker_main(request_fd: int, reply_fd: int) -> None:
    requests = os.fdopen(request_fd, "rb")
    replies = os.fdopen(reply_fd, "wb")
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
        sys.stdout.flush()
        sys.stderr.flush()
        replies.write(json.dumps(answer, default=str).encode() + b"\n")
        replies.flush()


if __name__ == "__main__":
    sys.path.pop(0)  # the folder of this script is not part of the function's code
    _worker_main(int(sys.argv[1]), int(sys.argv[2]))
