"""Operator tasks until a care console exists.

    python -m infra.admin unlock-card ICCID [--outputs .local/outputs.json]

`unlock-card` clears a card's PIN guess counter (a lock after 10 wrong PINs in 24 hours, and
any 15-minute wait), known card or not. Reads `LimitsTableName` (and, locally,
`DynamoDbEndpointUrl`) from the outputs file: the local stack's, or a deployed stack's Outputs
in the same flat shape."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


def unlock_card(dynamodb: Any, table: str, iccid: str) -> bool:
    """True when the card had a counter (now gone)."""
    key = {"key": {"S": f"card#{iccid}"}}  # renewal.domain.pins.card_key
    answer = dynamodb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    return "Attributes" in answer


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m infra.admin", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    unlock = commands.add_parser("unlock-card", help="clear a card's PIN lock and counters")
    unlock.add_argument("iccid")
    unlock.add_argument("--outputs", type=Path, default=Path(".local/outputs.json"))
    args = parser.parse_args(argv)
    if not args.outputs.exists():
        print(f"{args.outputs} not found: start the stack (make run) or pass --outputs")
        return 2
    outputs = json.loads(args.outputs.read_text())
    endpoint = outputs.get("DynamoDbEndpointUrl")  # the local stack's; absent for a deployed stack
    if endpoint:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=outputs.get("Region"))
    table = outputs.get("LimitsTableName") or f"{outputs['StackName']}-LimitsTable"
    had = unlock_card(dynamodb, table, args.iccid)
    print(f"card {args.iccid}: " + ("unlocked" if had else "had no lock or wrong PINs on record"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
