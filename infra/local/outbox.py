"""The local mail outbox: what SES (moto) was asked to send.

python -m infra.local.outbox [--to someone@example.com] [--json]
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path
from typing import Any

from infra.local.client import DEFAULT_OUTPUTS, load_outputs


def sent_mail(aws_endpoint_url: str, to: str | None = None) -> list[dict[str, Any]]:
    """Messages in the order SES accepted them: {id, source, destinations, subject, body}."""
    with urllib.request.urlopen(f"{aws_endpoint_url}/moto-api/data.json", timeout=10) as response:  # noqa: S310
        messages: list[dict[str, Any]] = json.load(response).get("ses", {}).get("Message", [])
    if to:
        messages = [m for m in messages if to in (m.get("destinations") or {}).get("ToAddresses", [])]
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.outbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS)
    parser.add_argument("--to", help="only mail to this address")
    parser.add_argument("--json", action="store_true", help="print the messages as JSON")
    args = parser.parse_args(argv)
    messages = sent_mail(load_outputs(args.outputs)["AwsEndpointUrl"], args.to)
    if args.json:
        print(json.dumps(messages, indent=2, ensure_ascii=False))
        return 0
    if not messages:
        print("the outbox is empty")
    for message in messages:
        to = ", ".join((message.get("destinations") or {}).get("ToAddresses", []))
        print(f"--- to {to} from {message.get('source')}\nSubject: {message.get('subject')}\n\n{message.get('body')}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
