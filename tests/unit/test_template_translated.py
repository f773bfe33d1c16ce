"""Properties of template.yaml read from the SAM translator's output (what CloudFormation would be
given), offline: issue 16's points, each one a test that fails if the template loses it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from renewal.adapters.carrier import HttpCarrier

ROOT = Path(__file__).resolve().parents[2]


def translate(text: str) -> dict[str, Any]:
    """The CloudFormation template SAM makes of `text` (code locations as `sam package` leaves them)."""
    template = yaml_parse(text)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://artifacts/{properties[key]}"
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    translated: dict[str, Any] = Translator({}, Parser(), boto_session=session).translate(
        template, {}, get_managed_policy_map=lambda: {}
    )
    return translated


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return translate((ROOT / "template.yaml").read_text())


def of_type(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in cfn["Resources"].items() if r["Type"] == kind}


def value(cfn: dict[str, Any], expression: Any) -> Any:
    """A literal, a parameter's default or a FindInMap, as a number or string."""
    if isinstance(expression, dict) and "Ref" in expression:
        return cfn["Parameters"][expression["Ref"]]["Default"]
    if isinstance(expression, dict) and "Fn::FindInMap" in expression:
        table, first, second = expression["Fn::FindInMap"]
        return cfn["Mappings"][table][first][second]
    return expression


# ------------------------------------------------------------------ point 4: data survives
def test_every_table_and_the_user_pool_are_retained_and_protected(cfn: dict[str, Any]) -> None:
    tables = of_type(cfn, "AWS::DynamoDB::Table")
    assert len(tables) >= 11
    for name, table in tables.items():
        assert table.get("DeletionPolicy") == "Retain", name
        assert table.get("UpdateReplacePolicy") == "Retain", name
        assert table["Properties"].get("DeletionProtectionEnabled") is True, name
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
    (pool,) = of_type(cfn, "AWS::Cognito::UserPool").values()
    assert pool.get("DeletionPolicy") == "Retain" and pool.get("UpdateReplacePolicy") == "Retain"
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"


# ------------------------------------------------------------------ point 5: two stacks per account
# Properties that name a resource account- or region-wide (a second stack with the same name fails).
NAME_KEYS = (
    "Name",
    "TableName",
    "QueueName",
    "FunctionName",
    "RoleName",
    "TopicName",
    "AlarmName",
    "LogGroupName",
    "ConfigurationSetName",
    "DashboardName",
    "BucketName",
    "AliasName",
    "RuleName",
)  # fmt: skip  (a layer's name is shared on purpose: each stack publishes its own versions)


def _names(properties: Any) -> list[Any]:
    """Every name a resource gives itself (not a reference to another resource's name)."""
    found: list[Any] = []
    for key, item in properties.items():
        if key in NAME_KEYS and not (isinstance(item, dict) and ("Ref" in item or "Fn::GetAtt" in item)):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(_names(item))
    return found


def test_every_named_resource_carries_the_stack_name(cfn: dict[str, Any]) -> None:
    schedules = of_type(cfn, "AWS::Scheduler::Schedule")
    assert len(schedules) >= 2
    checked = 0
    for logical_id, resource in cfn["Resources"].items():
        if resource["Type"] in (
            "AWS::Cognito::UserPoolGroup",
            "AWS::Lambda::Alias",
        ):  # named inside their pool, function
            continue
        for name in _names(resource.get("Properties", {})):
            checked += 1
            assert "${AWS::StackName}" in json.dumps(name), f"{logical_id} is named {name} in every stack"
    assert checked >= len(schedules) + 2


# ------------------------------------------------------------------ point 6: parameters
EMAIL_GOOD = ["renewals@mail.esim-renew.com", "ops+alarms@esim-renew.co.uk"]
EMAIL_BAD = ["", "renewals", "renewals@localhost", "a b@c.com"]


@pytest.mark.parametrize("name", ["MailFrom", "AlarmEmail"])
def test_addresses_are_required_and_shaped(cfn: dict[str, Any], name: str) -> None:
    parameter = cfn["Parameters"][name]
    assert "Default" not in parameter
    pattern = parameter["AllowedPattern"]
    assert all(re.fullmatch(pattern, good) for good in EMAIL_GOOD)
    assert not any(re.fullmatch(pattern, bad) for bad in EMAIL_BAD)


def test_the_carrier_url_is_required_and_https(cfn: dict[str, Any]) -> None:
    parameter = cfn["Parameters"]["CarrierApiUrl"]
    assert "Default" not in parameter
    pattern = parameter["AllowedPattern"]
    assert re.fullmatch(pattern, "https://api.carrier.net") and re.fullmatch(pattern, "https://c.net:8443/esim")
    assert not any(re.fullmatch(pattern, bad) for bad in ["", "http://api.carrier.net", "api.carrier.net"])


def test_no_parameter_defaults_to_a_placeholder(cfn: dict[str, Any]) -> None:
    for name, parameter in cfn["Parameters"].items():
        assert "example." not in str(parameter.get("Default", "")), name


@pytest.mark.parametrize(
    ("function", "variable", "parameter", "site_path"),
    [
        ("CheckoutFunction", "CHECKOUT_SUCCESS_URL", "CheckoutSuccessUrl", "/app/?checkout=success&session_id="),
        ("CheckoutFunction", "CHECKOUT_CANCEL_URL", "CheckoutCancelUrl", "/app/?checkout=cancelled"),
        ("ReminderMailFunction", "RENEW_URL", "RenewUrl", "/app/?renew={plan_id}"),
    ],
)
def test_return_urls_default_to_the_stacks_own_site(
    cfn: dict[str, Any], function: str, variable: str, parameter: str, site_path: str
) -> None:
    assert cfn["Parameters"][parameter]["Default"] == ""
    chosen = cfn["Resources"][function]["Properties"]["Environment"]["Variables"][variable]
    condition, given, otherwise = chosen["Fn::If"]
    assert cfn["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]}
    assert given == {"Ref": parameter}
    assert "${SiteDistribution.DomainName}" in otherwise["Fn::Sub"] and site_path in otherwise["Fn::Sub"]


def test_the_ses_identity_is_made_only_when_asked(cfn: dict[str, Any]) -> None:
    (identity,) = of_type(cfn, "AWS::SES::EmailIdentity").values()
    assert cfn["Conditions"][identity["Condition"]] == {"Fn::Equals": [{"Ref": "CreateMailIdentity"}, "true"]}
    assert cfn["Parameters"]["CreateMailIdentity"]["Default"] == "false"


def test_cognito_mails_through_ses_only_when_switched(cfn: dict[str, Any]) -> None:
    parameter = cfn["Parameters"]["CognitoEmail"]
    assert parameter["Default"] == "COGNITO_DEFAULT" and set(parameter["AllowedValues"]) == {"COGNITO_DEFAULT", "SES"}
    (pool,) = of_type(cfn, "AWS::Cognito::UserPool").values()
    condition, ses, default = pool["Properties"]["EmailConfiguration"]["Fn::If"]
    assert cfn["Conditions"][condition] == {"Fn::Equals": [{"Ref": "CognitoEmail"}, "SES"]}
    assert ses["EmailSendingAccount"] == "DEVELOPER" and "identity/${MailFrom}" in ses["SourceArn"]["Fn::Sub"]
    assert default == {"EmailSendingAccount": "COGNITO_DEFAULT"}


# ------------------------------------------------------------------ point 7: queues sized to the work
# Worst-case AWS time per record on top of what is counted exactly (generous: DynamoDB and SES calls
# take ~5-30 ms each here; docs/decisions.md 2026-12-03).
AWS_ALLOWANCE_S = {"ActivateFunction": 3.0, "ReminderMailFunction": 2.0, "MailEventsFunction": 2.0}


def carrier_worst_case_s(read_timeout_s: float) -> float:
    """A carrier that never answers: every try waits its connect and read timeouts, plus backoff."""
    carrier = HttpCarrier(base_url="https://carrier.invalid", secret=lambda: "s", timeout_s=read_timeout_s)
    per_try = float(carrier._timeout.connect_timeout) + float(carrier._timeout.read_timeout)  # type: ignore[arg-type]
    backoff = sum(carrier._backoff_s * 4 ** (n - 1) for n in range(1, carrier._attempts))
    return carrier._attempts * per_try + backoff


def worst_record_s(cfn: dict[str, Any], function: str) -> float:
    if function == "ActivateFunction":
        # An activation pushes at most one of its line's pending reversals before its own add
        # (renewal.usecases.reversals.ReversalPush.push_pending); a reversal message is one call.
        return 2 * carrier_worst_case_s(float(cfn["Parameters"]["CarrierTimeoutSeconds"]["MaxValue"]))
    if function == "ReminderMailFunction":
        variables = cfn["Resources"][function]["Properties"]["Environment"]["Variables"]
        slowest_rate = float(cfn["Parameters"]["MailSendRatePerSecond"]["MinValue"]) / int(variables["MAIL_SENDERS"])
        return 1 / slowest_rate
    if function == "MailEventsFunction":
        return 0.0  # DynamoDB only: an index query and an update per address
    raise AssertionError(f"{function} reads a queue: add its worst case per record here and in docs/decisions.md")


def function_of(cfn: dict[str, Any], reference: dict[str, Any]) -> str:
    """The function a Ref names, through its alias (the API, queues and schedules invoke `live`)."""
    target = cfn["Resources"][reference["Ref"]]
    if target["Type"] == "AWS::Lambda::Alias":
        return str(target["Properties"]["FunctionName"]["Ref"])
    return str(reference["Ref"])


def queue_sources(cfn: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = []
    for mapping in of_type(cfn, "AWS::Lambda::EventSourceMapping").values():
        source = mapping["Properties"]["EventSourceArn"]
        if isinstance(source, dict) and "Fn::GetAtt" in source:
            queue = cfn["Resources"][source["Fn::GetAtt"][0]]
            if queue["Type"] == "AWS::SQS::Queue":
                found.append((function_of(cfn, mapping["Properties"]["FunctionName"]), mapping["Properties"], queue))
    return found


def test_every_queue_worker_finishes_its_batch_in_its_timeout(cfn: dict[str, Any]) -> None:
    sources = queue_sources(cfn)
    assert {"ActivateFunction", "ReminderMailFunction", "MailEventsFunction"} <= {f for f, _, _ in sources}
    for function, mapping, _ in sources:
        timeout = float(value(cfn, cfn["Resources"][function]["Properties"]["Timeout"]))
        batch = int(value(cfn, mapping["BatchSize"]))
        worst = batch * (worst_record_s(cfn, function) + AWS_ALLOWANCE_S[function])
        assert worst <= timeout, f"{function}: {batch} records can take {worst:.1f} s, timeout {timeout} s"
        # a failed record is retried alone; the rest of the batch is not received again
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], function


def test_visibility_is_at_least_six_times_the_timeout_and_records_get_tries(cfn: dict[str, Any]) -> None:
    for function, _, queue in queue_sources(cfn):
        timeout = float(value(cfn, cfn["Resources"][function]["Properties"]["Timeout"]))
        visibility = queue["Properties"]["VisibilityTimeout"]
        assert float(value(cfn, visibility)) >= 6 * timeout, function
        if isinstance(visibility, dict) and "Ref" in visibility:  # a deploy cannot set it lower
            assert float(cfn["Parameters"][visibility["Ref"]]["MinValue"]) >= 6 * timeout, function
        receives = queue["Properties"]["RedrivePolicy"]["maxReceiveCount"]
        assert int(value(cfn, receives)) >= 5, function  # AWS's advice for Lambda sources: >= 5


def test_the_claim_leases_follow_the_timeouts_from_one_place(
    cfn: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from renewal.settings import claim_lease

    for function in ("ActivateFunction", "ReminderMailFunction"):
        properties = cfn["Resources"][function]["Properties"]
        assert "Fn::FindInMap" in properties["Timeout"]
        assert properties["Environment"]["Variables"]["FUNCTION_TIMEOUT_SECONDS"] == properties["Timeout"]
        monkeypatch.setenv("FUNCTION_TIMEOUT_SECONDS", str(value(cfn, properties["Timeout"])))
        assert claim_lease().total_seconds() == 2 * float(value(cfn, properties["Timeout"]))


def test_a_bigger_batch_would_fail_the_sizing_check() -> None:
    """The sizing check can fail: ten activations per batch cannot all wait out a dead carrier."""
    text = (ROOT / "template.yaml").read_text()
    changed = re.sub(r"(    Activate:\n      TimeoutSeconds: \d+\n      BatchSize: )\d+", r"\g<1>10", text)
    assert changed != text
    with pytest.raises(AssertionError, match="ActivateFunction"):
        test_every_queue_worker_finishes_its_batch_in_its_timeout(translate(changed))


def test_translation_sees_the_template_as_deployed() -> None:
    """Guards the helper: the translator really ran (SAM resources became CloudFormation ones)."""
    cfn = translate((ROOT / "template.yaml").read_text())
    assert not [r for r in cfn["Resources"].values() if r["Type"].startswith("AWS::Serverless::")]
    assert of_type(cfn, "AWS::Lambda::EventSourceMapping") and of_type(cfn, "AWS::Scheduler::Schedule")


# ------------------------------------------------------------------ point 1: alarms reach a person
def alarms(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in of_type(cfn, "AWS::CloudWatch::Alarm").items()}


def alarmed(cfn: dict[str, Any], metric: str, dimension: dict[str, Any] | None = None) -> list[str]:
    """Alarms on `metric` (with this dimension value, if given)."""
    found = []
    for name, alarm in alarms(cfn).items():
        if alarm.get("MetricName") != metric:
            continue
        values = [d["Value"] for d in alarm.get("Dimensions", [])]
        if dimension is None or dimension in values:
            found.append(name)
    return found


def test_the_alarm_topic_uses_a_key_cloudwatch_may_use_and_mails_a_person(cfn: dict[str, Any]) -> None:
    (topic_id,) = of_type(cfn, "AWS::SNS::Topic")
    key_ref = cfn["Resources"][topic_id]["Properties"]["KmsMasterKeyId"]
    assert key_ref != "alias/aws/sns"
    key = cfn["Resources"][key_ref["Ref"]]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    assert cloudwatch[0]["Effect"] == "Allow"
    subscriptions = [s["Properties"] for s in of_type(cfn, "AWS::SNS::Subscription").values()]
    assert {"TopicArn": {"Ref": topic_id}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}} in subscriptions


def test_every_alarm_notifies_the_topic(cfn: dict[str, Any]) -> None:
    (topic_id,) = of_type(cfn, "AWS::SNS::Topic")
    for name, alarm in alarms(cfn).items():
        assert alarm.get("AlarmActions") == [{"Ref": topic_id}], name


def test_every_function_has_an_errors_and_a_throttles_alarm(cfn: dict[str, Any]) -> None:
    functions = of_type(cfn, "AWS::Lambda::Function")
    assert len(functions) >= 9
    for function in functions:
        assert alarmed(cfn, "Errors", {"Ref": function}), f"{function} has no Errors alarm"
        assert alarmed(cfn, "Throttles", {"Ref": function}), f"{function} has no Throttles alarm"


def test_api_5xx_and_webhook_failures_are_alarmed(cfn: dict[str, Any]) -> None:
    (api_id,) = of_type(cfn, "AWS::ApiGatewayV2::Api")
    assert alarmed(cfn, "5xx", {"Ref": api_id})
    filters = [f["Properties"] for f in of_type(cfn, "AWS::Logs::MetricFilter").values()]
    webhook = [f for f in filters if "POST /webhooks/stripe" in f["FilterPattern"]]
    assert webhook and '$.status != "2*"' in webhook[0]["FilterPattern"]
    # the filter reads the log group the API writes its access log to
    stage = next(s for s in of_type(cfn, "AWS::ApiGatewayV2::Stage").values())
    log_group = webhook[0]["LogGroupName"]["Ref"]
    assert stage["Properties"]["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": [log_group, "Arn"]}
    assert '"routeKey":"$context.routeKey"' in stage["Properties"]["AccessLogSettings"]["Format"]
    (metric,) = webhook[0]["MetricTransformations"]
    assert alarmed(cfn, metric["MetricName"])


def dead_letter_targets(cfn: dict[str, Any]) -> set[str]:
    """Queues something dead-letters into: redrive policies, Lambda async DLQs, schedules' DLQs."""
    found = set()
    for resource in cfn["Resources"].values():
        properties = resource.get("Properties", {})
        for arn in (
            properties.get("RedrivePolicy", {}).get("deadLetterTargetArn"),
            properties.get("DeadLetterConfig", {}).get("TargetArn"),
            properties.get("Target", {}).get("DeadLetterConfig", {}).get("Arn"),
            *[t.get("DeadLetterConfig", {}).get("Arn") for t in properties.get("Targets", [])],
        ):
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                found.add(arn["Fn::GetAtt"][0])
    return found


def test_every_dead_letter_queue_and_every_source_queue_is_alarmed(cfn: dict[str, Any]) -> None:
    targets = dead_letter_targets(cfn)
    assert {"ActivationDeadLetterQueue", "MailDeadLetterQueue", "ScheduledRunDeadLetterQueue"} <= targets
    assert "MailEventsDeadLetterQueue" in targets  # an EventBridge rule's target DLQ counts too
    for target in targets:
        assert alarmed(cfn, "ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": [target, "QueueName"]}), target
    for _, _, source in queue_sources(cfn):
        name = next(k for k, r in cfn["Resources"].items() if r is source)
        assert alarmed(cfn, "ApproximateAgeOfOldestMessage", {"Fn::GetAtt": [name, "QueueName"]}), name


def test_reconciliation_issues_and_ses_reputation_are_alarmed(cfn: dict[str, Any]) -> None:
    assert alarmed(cfn, "ReconciliationIssues")
    assert alarmed(cfn, "Reputation.BounceRate") and alarmed(cfn, "Reputation.ComplaintRate")


def test_every_alarm_has_a_runbook_entry(cfn: dict[str, Any]) -> None:
    headings = [line for line in (ROOT / "docs" / "runbooks.md").read_text().splitlines() if line.startswith("### ")]
    named = {name for heading in headings for name in re.findall(r"\w+Alarm\b", heading)}
    for name, alarm in alarms(cfn).items():
        assert name in named, f"docs/runbooks.md has no entry for {name}"
        assert f"docs/runbooks.md {name}" in alarm["AlarmDescription"], f"{name}'s description names no runbook"


# ------------------------------------------------------------------ point 8: runtime
def test_every_function_runs_python313_on_arm64_and_so_do_the_tests(cfn: dict[str, Any]) -> None:
    functions = of_type(cfn, "AWS::Lambda::Function")
    for name, function in functions.items():
        assert function["Properties"]["Runtime"] == "python3.13", name  # Amazon Linux 2023
        assert function["Properties"]["Architectures"] == ["arm64"], name
    (layer,) = of_type(cfn, "AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    # the tests and the local Lambda workers (this interpreter) are on the same minor version
    assert f"python{sys.version_info.major}.{sys.version_info.minor}" == "python3.13"


def test_the_layer_is_built_for_the_runtime_from_the_lock() -> None:
    makefile = (ROOT / "functions" / "shared" / "Makefile").read_text()
    assert "--python-version 3.13" in makefile and "sys.version_info[:2] == (3, 13)" in makefile
    assert '-c "$(ROOT)/requirements.lock"' in makefile
    assert "RUNTIME_PROVIDED := boto3 botocore s3transfer" in makefile


def test_snapstart_is_a_parameter_and_everything_invokes_the_published_alias(cfn: dict[str, Any]) -> None:
    parameter = cfn["Parameters"]["SnapStart"]
    assert parameter["Default"] == "None" and set(parameter["AllowedValues"]) == {"None", "PublishedVersions"}
    functions = of_type(cfn, "AWS::Lambda::Function")
    aliases = {a["Properties"]["FunctionName"]["Ref"]: k for k, a in of_type(cfn, "AWS::Lambda::Alias").items()}
    for name, function in functions.items():
        assert function["Properties"]["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}, name
        assert name in aliases, f"{name} publishes no alias"
    (api,) = of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    uris = [
        operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        for path in api["Properties"]["Body"]["paths"].values()
        for operation in path.values()
    ]
    assert uris and all(any(f"${{{alias}}}" in uri for alias in aliases.values()) for uri in uris)
    for mapping in of_type(cfn, "AWS::Lambda::EventSourceMapping").values():
        assert mapping["Properties"]["FunctionName"]["Ref"] in aliases.values()
    for schedule in of_type(cfn, "AWS::Scheduler::Schedule").values():
        assert schedule["Properties"]["Target"]["Arn"]["Ref"] in aliases.values()


# ------------------------------------------------------------------ point 3: one dashboard
def dashboard(cfn: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((name, resource),) = of_type(cfn, "AWS::CloudWatch::Dashboard").items()
    text = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    # what CloudFormation substitutes: ${X} and ${X.Attr} name resources, ${AWS::...} pseudo parameters
    for reference in set(re.findall(r"\$\{([^}!]+)\}", text)):
        assert reference.startswith("AWS::") or reference.split(".")[0] in cfn["Resources"], reference
    body = json.loads(re.sub(r"\$\{!?([^}]+)\}", r"\1", text))
    return name, body


def test_one_dashboard_shows_the_funnel_errors_latency_queues_and_pool(cfn: dict[str, Any]) -> None:
    name, body = dashboard(cfn)
    assert "${AWS::StackName}" in cfn["Resources"][name]["Properties"]["DashboardName"]["Fn::Sub"]
    titles = " ".join(w["properties"].get("title", "") for w in body["widgets"]).lower()
    for part in ("funnel", "errors", "latency", "queues", "pool"):
        assert part in titles, part
    shown = [tuple(m[:4]) for w in body["widgets"] for m in w["properties"].get("metrics", [])]
    for function in of_type(cfn, "AWS::Lambda::Function"):
        assert ("AWS/Lambda", "Errors", "FunctionName", function) in shown, function
        assert ("AWS/Lambda", "Duration", "FunctionName", function) in shown, function
    for _, _, queue in queue_sources(cfn):
        queue_id = next(k for k, r in cfn["Resources"].items() if r is queue)
        assert ("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", f"{queue_id}.QueueName") in shown
    for metric in ("Orders_activated", "MailsSent", "MailsSkipped", "PoolLinesAvailable"):
        assert ("Renewal", metric, "service", "renewal") in shown, metric
