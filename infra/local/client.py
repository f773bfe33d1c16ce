"""A small client of the running stack that reads only `.local/outputs.json` (or a deployed
stack's outputs in the same shape): sign up, log in, call the API.

    python -m infra.local.client signup  --email you@example.com --password 'Pass-word-123'
    python -m infra.local.client account --email you@example.com --password 'Pass-word-123'
    python -m infra.local.client get /plans?region=EU
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import requests

DEFAULT_OUTPUTS = Path(__file__).resolve().parents[2] / ".local" / "outputs.json"


def load_outputs(path: Path = DEFAULT_OUTPUTS) -> dict[str, str]:
    if not path.exists():
        raise SystemExit(f"{path} not found: start the stack with `make run` first")
    outputs: dict[str, str] = json.loads(path.read_text())
    return outputs


def cognito(outputs: dict[str, str]) -> Any:
    # Locally Cognito is moto; against AWS, AwsEndpointUrl is absent and boto3 goes to AWS.
    return boto3.client(
        "cognito-idp",
        region_name=outputs.get("Region", "us-east-1"),
        endpoint_url=outputs.get("AwsEndpointUrl"),
        **({"aws_access_key_id": "testing", "aws_secret_access_key": "testing"} if "AwsEndpointUrl" in outputs else {}),
    )


def new_credentials(prefix: str = "user", token: str | None = None) -> tuple[str, str]:
    """A fresh email and a password that meets the user pool's policy whatever the random part
    is: the policy wants a digit, and six hex characters have none about one time in 360."""
    token = token if token is not None else uuid.uuid4().hex[:10]
    return f"{prefix}-{token}@example.com", f"Pass-word-1{token}"


def sign_up(outputs: dict[str, str], email: str, password: str, code: str = "000000") -> None:
    """Signs up and confirms. Locally any code confirms (moto); on AWS, pass the emailed code."""
    client = cognito(outputs)
    client.sign_up(
        ClientId=outputs["UserPoolClientId"],
        Username=email,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    client.confirm_sign_up(ClientId=outputs["UserPoolClientId"], Username=email, ConfirmationCode=code)


def log_in(outputs: dict[str, str], email: str, password: str) -> str:
    """USER_PASSWORD_AUTH; returns the ID token the API expects as `Authorization: Bearer`."""
    answer = cognito(outputs).initiate_auth(
        ClientId=outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def call(
    outputs: dict[str, str], method: str, path: str, token: str | None = None, body: Any = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, outputs["ApiUrl"].rstrip("/") + path, headers=headers, json=body, timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.client", description=__doc__.split("\n\n")[0])
    parser.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("signup", "login", "account"):
        command = sub.add_parser(name)
        command.add_argument("--email", required=True)
        command.add_argument("--password", required=True)
    get = sub.add_parser("get", help="GET a path, with a token when --email/--password are given")
    get.add_argument("path")
    get.add_argument("--email")
    get.add_argument("--password")
    args = parser.parse_args(argv)
    outputs = load_outputs(args.outputs)

    if args.command == "signup":
        sign_up(outputs, args.email, args.password)
        print(f"signed up and confirmed {args.email}")
        return 0
    token = log_in(outputs, args.email, args.password) if getattr(args, "email", None) else None
    if args.command == "login":
        print(token)
        return 0
    path = "/account" if args.command == "account" else args.path
    response = call(outputs, "GET", path, token)
    print(f"HTTP {response.status_code}", file=sys.stderr)
    print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    return 0 if response.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
