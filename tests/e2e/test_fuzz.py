"""A bounded fuzz run (schemathesis) against the served /openapi.json as a logged-in customer
(issue 14, point 6): it fails on any 5xx, and on any answer the document does not describe (status,
content type, body schema, headers)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.client import log_in, new_credentials, sign_up

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,response_headers_conformance"
)
# Bounded so the run adds well under a minute to `make test` (about 500 requests: 27 s on a quiet
# machine here, 31-39 s with the 2 cores under a load of 10; the coverage phase is most of it);
# FUZZ_EXAMPLES=200 for a longer hunt. A fixed seed keeps a failure reproducible.
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "5")
SEED = os.environ.get("FUZZ_SEED", "14")


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("fuzzes the local stack (it writes orders and Checkout Sessions)")


def test_the_api_answers_only_what_its_document_describes_and_never_5xx(
    outputs: dict[str, str], tmp_path: Path
) -> None:
    email, password = new_credentials("fuzz")
    sign_up(outputs, email, password)
    token = log_in(outputs, email, password)
    api = outputs["ApiUrl"]
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{api}/openapi.json",
        "--url",
        api,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",  # schemathesis 4.32's coverage phase failed inside itself (a CPython AST error) with 2
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    # In a folder of its own: schemathesis and hypothesis keep their caches in the working directory.
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    report = run.stdout[-12000:] + run.stderr[-3000:]
    assert run.returncode == 0, report
    tally = re.search(r"(\d+) generated, (\d+) passed\s*$", run.stdout, re.MULTILINE)
    assert tally and tally[1] == tally[2] and int(tally[1]) > 100, report  # every case ran and passed
