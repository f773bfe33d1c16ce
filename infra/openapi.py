"""The API's OpenAPI document, generated from the code (each HTTP function's Powertools resolver)
and merged into one file that the API serves at GET /openapi.json.

    python -m infra.openapi          # regenerate functions/shared/renewal/openapi.json
    python -m infra.openapi --check  # fail when the committed copy or template routes drift

It also fails when template.yaml routes a path that no code serves, or the code serves a path
that template.yaml does not route: the two must describe the same API."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "functions" / "shared" / "renewal" / "openapi.json"
TITLE = "Renewal pipeline API"
VERSION = "1.0.0"

_EXTRACT = """
import json, sys
import app
from renewal.http.api import security_schemes
schema = app.app.get_openapi_schema(title="x", security_schemes=security_schemes())
print(json.dumps(schema.model_dump(mode="json", by_alias=True, exclude_none=True)))
"""


def _function_document(code_dir: Path, layer_dirs: list[Path], environment: dict[str, str]) -> dict[str, Any]:
    # The function's own environment from the template: its init builds its wiring, which reads it.
    env = {
        **environment,
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(code_dir), *map(str, layer_dirs)]),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", _EXTRACT], cwd=code_dir, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"could not read the OpenAPI schema of {code_dir}:\n{result.stderr}")
    document: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return document


# API Gateway's own answers, which no function's code produces: the JWT authorizer's 401 and the
# throttling 429 (HTTP APIs cannot reshape either).
GATEWAY_MESSAGE = {
    "title": "GatewayMessage",
    "type": "object",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
    "description": 'API Gateway\'s own answer, e.g. {"message": "Unauthorized"} or {"message": "Too Many Requests"}',
}
_GATEWAY_REF = {"$ref": "#/components/schemas/GatewayMessage"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait (our own 429s; the gateway's have none)",
        "schema": {"type": "integer"},
    }
}


def _either(response: dict[str, Any] | None, description: str) -> dict[str, Any]:
    """`response` (our code's answer) or API Gateway's message, whichever the client gets."""
    if response is None:
        return {"description": description, "content": {"application/json": {"schema": _GATEWAY_REF}}}
    ours = response.get("content", {}).get("application/json", {}).get("schema")
    schema = {"anyOf": [ours, _GATEWAY_REF]} if ours else _GATEWAY_REF
    return {**response, "description": f"{response['description']}; or {description}",
            "content": {"application/json": {"schema": schema}}}  # fmt: skip


def add_gateway_answers(operation: dict[str, Any]) -> None:
    """Documents what API Gateway answers on this operation's behalf: the authorizer's 401 on a
    protected route, and the throttling 429 on every route."""
    responses = operation.setdefault("responses", {})
    if operation.get("security"):
        responses["401"] = _either(
            responses.get("401"), 'the JWT authorizer refused the token: {"message": "Unauthorized"}'
        )
        # Every protected route refuses a token whose email is not verified (renewal.http.api.caller).
        refused = responses.get("403")
        responses["403"] = (
            {**refused, "description": f"{refused['description']}; or email_not_verified"}
            if refused
            else {"description": "email_not_verified: the token's email is not verified",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        )  # fmt: skip
    throttled = _either(responses.get("429"), 'API Gateway throttling: {"message": "Too Many Requests"}')
    responses["429"] = {**throttled, "headers": RETRY_AFTER}


def build() -> tuple[dict[str, Any], list[str]]:
    """The merged document, and the differences between template routes and code routes."""
    from infra.local.template import LocalStack, load_template

    stack = LocalStack(load_template(ROOT / "template.yaml"), "openapi", "us-east-1", {}, lenient=True)
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    security_schemes: dict[str, Any] = {}
    problems: list[str] = []
    for spec in stack.functions():
        routed = {(r.method.lower(), r.path) for r in spec.http_routes}
        if not routed:
            continue
        document = _function_document(Path(spec.code_dir), [Path(p) for p in spec.layer_dirs], spec.environment)
        served = {(m, p) for p, ops in document.get("paths", {}).items() for m in ops}
        hidden = {("get", "/openapi.json")}  # served, deliberately not described by itself
        for method, path in sorted(routed - served - hidden):
            problems.append(
                f"template routes {method.upper()} {path} to {spec.logical_id}, whose code does not serve it"
            )
        for method, path in sorted(served - routed):
            problems.append(f"{spec.logical_id} serves {method.upper()} {path}, which template.yaml does not route")
        for path, operations in document.get("paths", {}).items():
            paths.setdefault(path, {}).update(operations)
        components = document.get("components", {})
        schemas.update(components.get("schemas", {}))
        security_schemes.update(components.get("securitySchemes", {}))
    schemas["GatewayMessage"] = GATEWAY_MESSAGE
    for operations in paths.values():
        for operation in operations.values():
            add_gateway_answers(operation)
    merged = {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": 'Renew an international eSIM data card. Errors are {"error": {"code", "message"}}.',
        },
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": security_schemes},
    }
    return merged, problems


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.openapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail on drift instead of writing")
    args = parser.parse_args(argv)
    document, problems = build()
    for problem in problems:
        print(f"openapi: {problem}", file=sys.stderr)
    text = render(document)
    if args.check:
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if current != text:
            print(
                f"openapi: {DOCUMENT.relative_to(ROOT)} is out of date with the code; run `make openapi`",
                file=sys.stderr,
            )
            return 1
        return 1 if problems else 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)} ({len(document['paths'])} paths)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
