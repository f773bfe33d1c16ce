"""House rules for template.yaml, checked by cfn-lint. cfn-lint 1.x reads a SAM template as written
(Globals merged, no translation), so each rule understands both spellings: a SAM function with its
Events, and plain CloudFormation (AWS::Lambda::Function, event source mappings, schedules).

- E9101: every function logs to a log group of this template that has a retention;
- E9102: every async path has a dead-letter queue, and every dead-letter queue an alarm;
- E9103: every table (and user pool) is retained, on delete and on replacement, and protected.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch


def _resources(cfn: Any) -> dict[str, dict[str, Any]]:
    resources = cfn.template.get("Resources", {})
    return resources if isinstance(resources, dict) else {}


def _of_type(cfn: Any, *kinds: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in _resources(cfn).items() if isinstance(r, dict) and r.get("Type") in kinds}


def _target(value: Any) -> str | None:
    """The logical id a Ref or GetAtt names."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att:
            return str(get_att[0])
        if isinstance(get_att, str):
            return get_att.split(".")[0]
    return None


class FunctionLogGroupRetained(CloudFormationLintRule):
    id = "E9101"
    shortdesc = "Every function has its own log group with a retention"
    description = (
        "Each Lambda function sets LoggingConfig.LogGroup to an AWS::Logs::LogGroup of this template "
        "with RetentionInDays, so its logs neither live forever nor land in an unmanaged group."
    )
    source_url = "https://github.com/renewal/docs/decisions.md"
    tags = ["house", "logs"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        groups = _of_type(cfn, "AWS::Logs::LogGroup")
        for name, function in _of_type(cfn, "AWS::Serverless::Function", "AWS::Lambda::Function").items():
            logging = (function.get("Properties") or {}).get("LoggingConfig") or {}
            group = _target(logging.get("LogGroup"))
            path = ["Resources", name, "Properties", "LoggingConfig"]
            if group is None or group not in groups:
                matches.append(RuleMatch(path, f"{name} does not log to a log group of this template"))
            elif "RetentionInDays" not in (groups[group].get("Properties") or {}):
                matches.append(RuleMatch(path, f"{name}'s log group {group} has no RetentionInDays"))
        return matches


FUNCTIONS = ("AWS::Serverless::Function", "AWS::Lambda::Function")


def _events(function: dict[str, Any]) -> dict[str, dict[str, Any]]:
    events = (function.get("Properties") or {}).get("Events") or {}
    return {k: e for k, e in events.items() if isinstance(e, dict)} if isinstance(events, dict) else {}


class AsyncPathsDeadLettered(CloudFormationLintRule):
    id = "E9102"
    shortdesc = "Every async path has a dead-letter queue with an alarm"
    description = (
        "Every SQS queue a function reads has a redrive policy; every schedule and every function a "
        "schedule invokes has a dead-letter queue; every dead-letter queue has an alarm on "
        "ApproximateNumberOfMessagesVisible."
    )
    source_url = "https://github.com/renewal/docs/decisions.md"
    tags = ["house", "sqs", "alarms"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        resources = _resources(cfn)
        queues = _of_type(cfn, "AWS::SQS::Queue")
        dead_letter: dict[str, list[str]] = {}  # queue -> where it is named as a dead-letter target

        def dead_letters_into(arn: Any, path: list[str]) -> bool:
            queue = _target(arn)
            if queue:
                dead_letter.setdefault(queue, path)
            return queue is not None

        for name, queue in queues.items():
            redrive = (queue.get("Properties") or {}).get("RedrivePolicy") or {}
            dead_letters_into(redrive.get("deadLetterTargetArn"), ["Resources", name, "Properties", "RedrivePolicy"])

        sources: list[tuple[str, str | None]] = []  # (who reads, which queue)
        scheduled: set[str] = set()
        for name, mapping in _of_type(cfn, "AWS::Lambda::EventSourceMapping").items():
            sources.append((name, _target((mapping.get("Properties") or {}).get("EventSourceArn"))))
        for name, schedule in _of_type(cfn, "AWS::Scheduler::Schedule").items():
            target = (schedule.get("Properties") or {}).get("Target") or {}
            if _target(target.get("Arn")):
                scheduled.add(str(_target(target.get("Arn"))))
            path = ["Resources", name, "Properties", "Target"]
            if not dead_letters_into((target.get("DeadLetterConfig") or {}).get("Arn"), path):
                matches.append(RuleMatch(path, f"{name} has no DeadLetterConfig"))
        for name, function in _of_type(cfn, *FUNCTIONS).items():
            for event_name, event in _events(function).items():
                properties = event.get("Properties") or {}
                path = ["Resources", name, "Properties", "Events", event_name]
                if event.get("Type") == "SQS":
                    sources.append((f"{name}.{event_name}", _target(properties.get("Queue"))))
                elif event.get("Type") in ("ScheduleV2", "Schedule"):
                    scheduled.add(name)
                    if not dead_letters_into((properties.get("DeadLetterConfig") or {}).get("Arn"), path):
                        matches.append(RuleMatch(path, f"{name}.{event_name} has no DeadLetterConfig with an Arn"))

        for reader, source in sources:
            if (
                source is not None
                and source in queues
                and not (queues[source].get("Properties") or {}).get("RedrivePolicy")
            ):
                matches.append(
                    RuleMatch(["Resources", source, "Properties"], f"{source} feeds {reader} but has no RedrivePolicy")
                )

        for name, function in _of_type(cfn, *FUNCTIONS).items():
            properties = function.get("Properties") or {}
            path = ["Resources", name, "Properties"]
            arn = (properties.get("DeadLetterQueue") or {}).get("TargetArn") or (
                properties.get("DeadLetterConfig") or {}
            ).get("TargetArn")
            if not dead_letters_into(arn, path) and name in scheduled:
                matches.append(RuleMatch(path, f"{name} is invoked asynchronously but has no DLQ"))

        alarmed = set()
        for alarm in _of_type(cfn, "AWS::CloudWatch::Alarm").values():
            properties = alarm.get("Properties") or {}
            if properties.get("MetricName") != "ApproximateNumberOfMessagesVisible":
                continue
            for dimension in properties.get("Dimensions") or []:
                if isinstance(dimension, dict) and dimension.get("Name") == "QueueName":
                    alarmed.add(_target(dimension.get("Value")))
        for target, path in dead_letter.items():
            if target in resources and target not in alarmed:
                matches.append(RuleMatch(path, f"dead-letter queue {target} has no alarm on its visible messages"))
        return matches


class StatefulResourcesRetained(CloudFormationLintRule):
    id = "E9103"
    shortdesc = "Every table and user pool is retained and protected"
    description = (
        "DynamoDB tables and Cognito user pools carry DeletionPolicy and UpdateReplacePolicy Retain and "
        "deletion protection, so neither deleting the stack nor a replacing update loses the data."
    )
    source_url = "https://github.com/renewal/docs/decisions.md"
    tags = ["house", "data"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        protection = {
            "AWS::DynamoDB::Table": ("DeletionProtectionEnabled", True),
            "AWS::DynamoDB::GlobalTable": ("DeletionProtectionEnabled", True),
            "AWS::Cognito::UserPool": ("DeletionProtection", "ACTIVE"),
        }
        for name, resource in _of_type(cfn, *protection).items():
            for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
                if resource.get(policy) != "Retain":
                    matches.append(RuleMatch(["Resources", name], f"{name} needs {policy}: Retain"))
            key, wanted = protection[resource["Type"]]
            if (resource.get("Properties") or {}).get(key) != wanted:
                matches.append(RuleMatch(["Resources", name, "Properties"], f"{name} needs {key}: {wanted}"))
        return matches
