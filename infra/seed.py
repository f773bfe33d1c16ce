"""Seeding: the plan catalog (local or deployed), and, for local runs, a pool of test eSIM lines,
retail test cards and a demo customer.

    python -m infra.seed catalog --stack-name renewal          # a deployed stack (reads its Outputs)
    python -m infra.seed catalog --table renewal-PlansTable-X  # or a table by name

The catalog file is the truth: re-running upserts every plan and, unless --keep-missing,
deletes plans no longer in it (orders keep their own copy of what was sold)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CATALOG_FILE = ROOT / "infra" / "catalog" / "plans.json"
TEST_CARDS_FILE = ROOT / "infra" / "catalog" / "test_cards.json"
POOL_PREFIX = "8985200"  # 89 telecom, 852 country code, 00 our issuer id; serial and Luhn digit follow

sys.path.insert(0, str(ROOT / "functions" / "shared"))


def load_catalog(path: Path = CATALOG_FILE) -> list[Any]:
    from renewal.domain.plans import plan_from_dict

    plans = [plan_from_dict(raw) for raw in json.loads(path.read_text())["plans"]]
    ids = [p.plan_id for p in plans]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise SystemExit(f"{path}: duplicate plan ids {sorted(duplicates)}")
    return plans


def seed_catalog(path: Path = CATALOG_FILE, *, prune: bool = True) -> tuple[int, int]:
    """Upserts every plan of the file into PLANS_TABLE; returns (written, deleted)."""
    from renewal.adapters.dynamodb import PlanModel

    plans = load_catalog(path)
    wanted = {p.plan_id for p in plans}
    deleted = 0
    with PlanModel.batch_write() as batch:
        for plan in plans:
            batch.save(PlanModel.from_plan(plan))
        if prune:
            for existing in PlanModel.scan(attributes_to_get=["plan_id"]):
                if existing.plan_id not in wanted:
                    batch.delete(existing)
                    deleted += 1
    return len(plans), deleted


def pool_iccid(serial: int) -> str:
    from renewal.domain.lines import luhn_check_digit

    body = f"{POOL_PREFIX}{serial:011d}"
    return body + luhn_check_digit(body)


def seed_line_pool(count: int, *, first_serial: int = 1) -> list[str]:
    """Provisioned eSIM profiles waiting for online customers (PINs random, stored hashed)."""
    from renewal.adapters.dynamodb import POOL_AVAILABLE, LineModel
    from renewal.domain.pins import hash_pin

    iccids = [pool_iccid(serial) for serial in range(first_serial, first_serial + count)]
    with LineModel.batch_write() as batch:
        for iccid in iccids:
            pin = f"{secrets.randbelow(10**8):08d}"  # 8 digits, as printed on our cards
            batch.save(LineModel(iccid=iccid, pin_hash=hash_pin(pin), pool_state=POOL_AVAILABLE, bundles=[]))
    return iccids


def seed_test_cards(path: Path = TEST_CARDS_FILE) -> int:
    """Retail cards a customer may already hold (not in the online pool), for linking."""
    from renewal.adapters.dynamodb import LineModel
    from renewal.domain.pins import hash_pin

    cards = json.loads(path.read_text())["cards"]
    with LineModel.batch_write() as batch:
        for card in cards:
            batch.save(LineModel(iccid=card["iccid"], pin_hash=hash_pin(card["pin"]), bundles=[]))
    return len(cards)


@dataclass(frozen=True)
class DemoCustomer:
    email: str
    password: str
    account_id: str
    iccid: str


def confirmed_user(cognito: Any, user_pool_id: str, email: str, password: str) -> str:
    """A Cognito user who can log in at once; returns its `sub`."""
    cognito.admin_create_user(
        UserPoolId=user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=user_pool_id, Username=email, Password=password, Permanent=True)
    attributes = cognito.admin_get_user(UserPoolId=user_pool_id, Username=email)["UserAttributes"]
    return str(next(a["Value"] for a in attributes if a["Name"] == "sub"))


def seed_demo_customer(cognito: Any, user_pool_id: str, email: str, password: str, now: datetime) -> DemoCustomer:
    """A confirmed Cognito user whose account holds a line with an active EU bundle."""
    from renewal.adapters.dynamodb import AccountModel, BundleAttribute, LineModel, reminder_index_key
    from renewal.domain.accounts import Account
    from renewal.domain.lines import apply_plan
    from renewal.domain.pins import hash_pin

    account_id = confirmed_user(cognito, user_pool_id, email, password)

    plans = {p.plan_id: p for p in load_catalog()}
    bundles = apply_plan((), plans["eu-monthly-20gb"], now - timedelta(days=10))
    iccid = pool_iccid(900_000)
    shard, remind_at = reminder_index_key(iccid, bundles, None, now)
    LineModel(
        iccid=iccid,
        pin_hash=hash_pin("00000000"),
        account_id=account_id,
        bundles=[BundleAttribute.from_bundle(b) for b in bundles],
        remind_shard=shard,
        remind_at=remind_at,
    ).save()
    account = Account(
        account_id=account_id, email=email, locale="en", time_zone="Asia/Hong_Kong", iccid=iccid, created_at=now
    )
    AccountModel.from_account(account).save()
    return DemoCustomer(email=email, password=password, account_id=account_id, iccid=iccid)


DEMO_STORES = (
    {
        "store_id": "HKG-T1",
        "name": "Hong Kong Airport, Terminal 1",
        "address": "1 Sky Plaza Road, Chek Lap Kok, Hong Kong",
        "currency": "HKD",
        "time_zone": "Asia/Hong_Kong",
        "tax_id": "BR 31234567-001",
    },
    {
        "store_id": "HKG-IFC",
        "name": "IFC Mall",
        "address": "8 Finance Street, Central, Hong Kong",
        "currency": "HKD",
        "time_zone": "Asia/Hong_Kong",
        "tax_id": "BR 31234567-002",
    },
)


def seed_store(store: dict[str, str]) -> None:
    from renewal.adapters.dynamodb_stores import StoreModel

    StoreModel(store["store_id"], last_receipt=0, **{k: v for k, v in store.items() if k != "store_id"}).save()  # type: ignore[arg-type]


def seed_staff(cognito: Any, user_pool_id: str, email: str, password: str, store_id: str, name: str) -> str:
    """A Cognito user in group store-staff, linked to its store in our own table."""
    from renewal.adapters.dynamodb_stores import StaffModel

    staff_id = confirmed_user(cognito, user_pool_id, email, password)
    cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=email, GroupName="store-staff")
    StaffModel(staff_id=staff_id, store_id=store_id, name=name).save()
    return staff_id


def _plans_table_from_stack(stack_name: str) -> str:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return outputs["PlansTableName"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.seed", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    catalog = sub.add_parser("catalog", help="load infra/catalog/plans.json into the plans table")
    target = catalog.add_mutually_exclusive_group(required=True)
    target.add_argument("--table", help="the plans table's name")
    target.add_argument("--stack-name", help="a deployed stack; its PlansTableName output is used")
    catalog.add_argument("--file", type=Path, default=CATALOG_FILE)
    catalog.add_argument("--keep-missing", action="store_true", help="do not delete plans missing from the file")
    args = parser.parse_args(argv)

    os.environ["PLANS_TABLE"] = args.table or _plans_table_from_stack(args.stack_name)
    written, deleted = seed_catalog(args.file, prune=not args.keep_missing)
    print(f"catalog: {written} plans written, {deleted} removed, table {os.environ['PLANS_TABLE']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
