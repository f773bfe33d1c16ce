"""Template-only settings of issue 14 (throttling, reserved concurrency, the pool alarm, the user pool), read from
the SAM translator's output as CloudFormation gets it; and the local gateway throttling as the
template says."""

from __future__ import annotations

import copy
import os
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from infra.local.gateway import LocalHttpApi, Route, TokenBucket
from infra.local.template import LocalStack, Throttle, load_template

ROOT = Path(__file__).resolve().parents[2]
NO_VALUE = object()


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


@cache
def translated() -> dict[str, Any]:
    """template.yaml through the SAM translator (code locations as S3 URIs, as `sam package` makes them)."""
    template = yaml_parse((ROOT / "template.yaml").read_text())
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = f"s3://bucket/{name}"
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = f"s3://bucket/{name}"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return dict(transform(template, {}, _NoManagedPolicies()))


def evaluate(value: Any, output: dict[str, Any], parameters: dict[str, Any] | None = None) -> Any:
    """What CloudFormation makes of `value` with these parameter values (else the defaults):
    the intrinsics these settings use (Ref, Fn::If, Fn::Not, Fn::Equals)."""
    given = parameters or {}

    def ref(name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in output["Parameters"]:
            return {"Ref": name}  # a resource: left as CloudFormation would see it
        # a required parameter (no default) stands as itself, as a deploy would have to give it
        return given.get(name, output["Parameters"][name].get("Default", f"<{name}>"))

    def condition(name: str) -> bool:
        return bool(run(output["Conditions"][name]))

    def run(node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in map(run, node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"}:
            return ref(node["Ref"])
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return run(yes if condition(name) else no)
        if set(node) == {"Fn::Not"}:
            return not run(node["Fn::Not"][0])
        if set(node) == {"Fn::Equals"}:
            left, right = (run(v) for v in node["Fn::Equals"])
            return str(left) == str(right)
        done = {k: run(v) for k, v in node.items()}
        return {k: v for k, v in done.items() if v is not NO_VALUE}

    return run(copy.deepcopy(value))


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in translated()["Resources"].items() if r["Type"] == kind}


def unauthenticated_routes() -> set[str]:
    stack = LocalStack(load_template(ROOT / "template.yaml"), "t", "us-east-1", {}, lenient=True)
    return {f"{r.method} {r.path}" for f in stack.functions() for r in f.http_routes if r.auth is None}


def test_the_http_api_throttles_every_route_and_the_unauthenticated_ones_tighter() -> None:
    output = translated()
    (stage,) = resources_of("AWS::ApiGatewayV2::Stage").values()
    settings = evaluate(stage["Properties"], output)
    assert settings["DefaultRouteSettings"] == {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200}
    public = unauthenticated_routes()
    assert public == {"GET /plans", "GET /plans/{plan_id}", "GET /openapi.json", "POST /webhooks/stripe",
                      "POST /usage/records"}  # fmt: skip
    assert set(settings["RouteSettings"]) == public  # and only those: the rest take the default
    for route in public:
        assert settings["RouteSettings"][route] == {"ThrottlingRateLimit": 25, "ThrottlingBurstLimit": 50}
    raised = evaluate(stage["Properties"], output, {"PublicThrottleRate": 70, "ApiThrottleBurst": 900})
    assert raised["RouteSettings"]["GET /plans"]["ThrottlingRateLimit"] == 70
    assert raised["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 900


def test_reserved_concurrency_is_a_parameter_off_by_default() -> None:
    output = translated()
    functions = resources_of("AWS::Lambda::Function")
    for name, function in functions.items():
        assert "ReservedConcurrentExecutions" not in evaluate(function["Properties"], output), name
    for name, parameter in (
        ("WebhookFunction", "WebhookReservedConcurrency"),
        ("UsageFunction", "UsageReservedConcurrency"),
    ):
        assert output["Parameters"][parameter]["Default"] == 0
        reserved = evaluate(functions[name]["Properties"], output, {parameter: 5})
        assert reserved["ReservedConcurrentExecutions"] == 5, name
    others = {n for n, f in functions.items() if "ReservedConcurrentExecutions" in f["Properties"]}
    assert others == {"WebhookFunction", "UsageFunction"}


def test_an_alarm_fires_when_the_pool_falls_below_its_watermark() -> None:
    output = translated()
    alarm = evaluate(resources_of("AWS::CloudWatch::Alarm")["PoolLowAlarm"]["Properties"], output)
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Renewal", "PoolLinesAvailable")
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == output["Parameters"]["PoolLowWatermark"]["Default"] == 50
    assert evaluate(resources_of("AWS::CloudWatch::Alarm")["PoolLowAlarm"]["Properties"], output,
                    {"PoolLowWatermark": 7})["Threshold"] == 7  # fmt: skip
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # The metric is what reconciliation's handler emits (a run counts the pool).
    assert 'name="PoolLinesAvailable"' in (ROOT / "functions/reconcile/app.py").read_text()


def test_a_token_bucket_lets_the_burst_through_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(Throttle(rate=2, burst=3), clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 1.0  # two more a second later
    assert [bucket.take() for _ in range(3)] == [True, True, False]


def test_the_local_gateway_throttles_as_the_template_says() -> None:
    """The template's limits, with the public ones lowered by parameter so the test stays short."""
    stack = LocalStack(load_template(ROOT / "template.yaml"), "t", "us-east-1",
                       {"PublicThrottleRate": "1", "PublicThrottleBurst": "5"}, lenient=True)  # fmt: skip
    throttling = stack.throttling()
    assert throttling.for_route("GET /plans") == Throttle(1.0, 5)
    assert throttling.for_route("GET /account") == Throttle(100.0, 200)  # the default
    invoked: list[str] = []

    def invoke(name: str, event: dict[str, Any]) -> dict[str, Any]:
        invoked.append(event["rawPath"])
        return {"statusCode": 200, "body": "{}"}

    gateway = LocalHttpApi(
        [Route("GET", "/plans", "F", None), Route("GET", "/orders", "F", None)], invoke, throttling=throttling
    )
    gateway.start()
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(lambda _: requests.get(gateway.url + "/plans", timeout=10), range(40)))
        refilled = int(time.monotonic() - started) + 1  # at most one more per second (rate 1)
        passed = sum(1 for a in answers if a.status_code == 200)
        assert 5 <= passed <= 5 + refilled, passed  # the burst, and what the rate refilled meanwhile
        assert {a.status_code for a in answers} == {200, 429}
        throttled = next(a for a in answers if a.status_code == 429)
        assert throttled.json() == {"message": "Too Many Requests"}
        assert invoked.count("/plans") == passed  # a throttled request never reaches the function
        # Another route has its own bucket (the default's 200 burst).
        assert all(requests.get(gateway.url + "/orders", timeout=10).status_code == 200 for _ in range(10))
    finally:
        gateway.stop()


@pytest.mark.parametrize("name", ["ApiThrottleRate", "PublicThrottleBurst", "PoolLowWatermark"])
def test_the_new_parameters_are_numbers_with_a_floor(name: str) -> None:
    parameter = translated()["Parameters"][name]
    assert parameter["Type"] == "Number" and parameter["MinValue"] >= 1


def test_the_user_pool_verifies_email_changes_and_ignores_username_case() -> None:
    (pool,) = resources_of("AWS::Cognito::UserPool").values()
    properties = evaluate(pool["Properties"], translated())
    assert properties["UsernameConfiguration"] == {"CaseSensitive": False}  # fixed at creation
    assert properties["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    assert properties["AutoVerifiedAttributes"] == ["email"]


@pytest.mark.parametrize("function", ["WebhookFunction", "ReconcileFunction", "CheckoutFunction", "StoreApiFunction"])
def test_every_function_that_can_take_a_pool_line_may_write_accounts_and_lines(function: str) -> None:
    """A paying write updates the account and the line in one transaction (renewal.usecases.pool)."""
    template = yaml_parse((ROOT / "template.yaml").read_text())
    policies = template["Resources"][function]["Properties"]["Policies"]
    writable = {p["DynamoDBCrudPolicy"]["TableName"]["Ref"] for p in policies if "DynamoDBCrudPolicy" in p}
    assert {"AccountsTable", "LinesTable", "OrdersTable"} <= writable
