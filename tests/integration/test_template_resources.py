"""The local stack's tables, queues and user pool come from template.yaml, not from a list of
its own: change the template and what is created follows."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from infra.local import emulators
from infra.local.provision import create_resources
from infra.local.template import LocalStack, load_template

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    logs = tmp_path_factory.mktemp("emulators")
    ddb_port, moto_port = emulators.free_port(), emulators.free_port()
    processes: list[subprocess.Popen[bytes]] = [
        emulators.start_dynamodb_local(ddb_port, emulators.ensure_dynamodb_local(), logs),
        emulators.start_moto(moto_port, logs),
    ]
    try:
        emulators.wait_for_dynamodb(f"http://127.0.0.1:{ddb_port}", processes[0], logs)
        emulators.wait_for_moto(f"http://127.0.0.1:{moto_port}", processes[1], logs)
        yield f"http://127.0.0.1:{ddb_port}", f"http://127.0.0.1:{moto_port}"
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def provision(template: Path, stack_name: str, endpoints: tuple[str, str], **overrides: str) -> LocalStack:
    stack = LocalStack(load_template(template), stack_name, "us-east-1", overrides)
    create_resources(stack, *endpoints)
    return stack


def indexes(dynamodb_url: str, table: str) -> dict[str, list[tuple[str, str]]]:
    description = boto3.client("dynamodb", endpoint_url=dynamodb_url, **CREDENTIALS).describe_table(TableName=table)
    return {
        index["IndexName"]: [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
        for index in description["Table"].get("GlobalSecondaryIndexes", [])
    }


def test_every_template_table_queue_and_pool_exists(endpoints: tuple[str, str]) -> None:
    stack = provision(ROOT / "template.yaml", "real", endpoints, ActivationMaxReceives="2")
    declared = [k for k, r in stack.resources.items() if r["Type"] == "AWS::DynamoDB::Table"]
    tables = boto3.client("dynamodb", endpoint_url=endpoints[0], **CREDENTIALS).list_tables()["TableNames"]
    assert {f"real-{logical}" for logical in declared} <= set(tables)
    assert indexes(endpoints[0], "real-PlansTable") == {"by_region": [("region", "HASH"), ("plan_id", "RANGE")]}

    sqs = boto3.client("sqs", endpoint_url=endpoints[1], **CREDENTIALS)
    queue = stack.physical["ActivationQueue"].ref
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    dlq_arn = stack.physical["ActivationDeadLetterQueue"].attributes["Arn"]
    assert '"maxReceiveCount": 2' in attributes["RedrivePolicy"]  # the override, not the default 5
    assert dlq_arn in attributes["RedrivePolicy"]

    idp = boto3.client("cognito-idp", endpoint_url=endpoints[1], **CREDENTIALS)
    pool_id = stack.outputs()["UserPoolId"]
    client = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=stack.outputs()["UserPoolClientId"])
    assert "ALLOW_USER_PASSWORD_AUTH" in client["UserPoolClient"]["ExplicitAuthFlows"]
    assert [g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]] == ["store-staff"]


def test_a_changed_gsi_in_the_template_changes_the_created_table(endpoints: tuple[str, str], tmp_path: Path) -> None:
    text = (ROOT / "template.yaml").read_text()
    changed = text.replace("- IndexName: by_region", "- IndexName: by_region_renamed", 1)
    assert changed != text
    copy = tmp_path / "template.yaml"
    copy.write_text(changed)
    provision(copy, "copy", endpoints)
    assert set(indexes(endpoints[0], "copy-PlansTable")) == {"by_region_renamed"}


def test_functions_and_routes_are_read_from_the_template() -> None:
    stack = LocalStack(load_template(ROOT / "template.yaml"), "t", "us-east-1", {}, lenient=True)
    (customer_api,) = [f for f in stack.functions() if f.logical_id == "CustomerApiFunction"]
    routes = {(r.method, r.path): r.auth for r in customer_api.http_routes}
    assert routes[("GET", "/plans")] is None
    account_auth = routes[("GET", "/account")]
    assert account_auth is not None
    assert account_auth.issuer == "https://cognito-idp.us-east-1.amazonaws.com/t-UserPool"
    assert account_auth.audience == ["t-UserPoolClient"]
    assert customer_api.environment["PLANS_TABLE"] == "t-PlansTable"  # Globals merged in
    assert customer_api.handler == "app.lambda_handler"
    assert customer_api.layer_dirs == [ROOT / "functions" / "shared"]
