"""The custom cfn-lint rules (infra/cfn_rules) pass on template.yaml and catch what they are for."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.api import lint
from cfnlint.config import ManualArgs

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (ROOT / "template.yaml").read_text()


def house_findings(text: str) -> list[str]:
    config = ManualArgs(append_rules=[str(ROOT / "infra" / "cfn_rules")], regions=["us-east-1"])
    return [f"{m.rule.id} {m.message}" for m in lint(text, config=config) if m.rule.id.startswith("E91")]


def changed(old: str, new: str) -> str:
    assert TEMPLATE.count(old) >= 1, old
    return TEMPLATE.replace(old, new)


def test_the_template_keeps_the_house_rules() -> None:
    assert house_findings(TEMPLATE) == []


def test_a_log_group_without_retention_is_found() -> None:
    start = TEMPLATE.index("  UsageLogGroup:\n")
    group = TEMPLATE[start : TEMPLATE.index("\n\n", start)]
    kept = "    Properties:\n      RetentionInDays: !Ref LogRetentionDays"
    text = changed(group, group.replace(kept, "    Properties: {}"))
    assert house_findings(text) == ["E9101 UsageFunction's log group UsageLogGroup has no RetentionInDays"]


def test_a_function_without_its_log_group_is_found() -> None:
    text = changed("        LogGroup: !Ref UsageLogGroup\n", "")
    text = text.replace("      LoggingConfig:\n      Environment:", "      Environment:")
    assert house_findings(text) == ["E9101 UsageFunction does not log to a log group of this template"]


def test_a_dead_letter_queue_without_an_alarm_is_found() -> None:
    text = changed(
        "      MetricName: ApproximateNumberOfMessagesVisible\n      Dimensions:\n        - Name: QueueName\n"
        "          Value: !GetAtt MailDeadLetterQueue.QueueName",
        "      MetricName: NumberOfMessagesSent\n      Dimensions:\n        - Name: QueueName\n"
        "          Value: !GetAtt MailDeadLetterQueue.QueueName",
    )
    assert house_findings(text) == ["E9102 dead-letter queue MailDeadLetterQueue has no alarm on its visible messages"]


def test_a_source_queue_without_a_redrive_policy_is_found() -> None:
    text = changed(
        "      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt MailDeadLetterQueue.Arn\n"
        "        maxReceiveCount: !Ref MailMaxReceives\n",
        "",
    )
    assert "E9102 MailQueue feeds ReminderMailFunction.ReminderMails but has no RedrivePolicy" in house_findings(text)


def test_a_scheduled_function_without_a_dead_letter_queue_is_found() -> None:
    text = changed(
        "      DeadLetterQueue:\n        Type: SQS\n        TargetArn: !GetAtt ScheduledRunDeadLetterQueue.Arn\n"
        "      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: !Ref LinesTable\n        - SQSSend",
        "      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: !Ref LinesTable\n        - SQSSend",
    )
    assert house_findings(text) == ["E9102 ExpiryNotifyFunction is invoked asynchronously but has no DLQ"]


@pytest.mark.parametrize("policy", ["DeletionPolicy", "UpdateReplacePolicy"])
def test_a_table_that_is_not_retained_is_found(policy: str) -> None:
    start = TEMPLATE.index("  PlansTable:\n")
    table = TEMPLATE[start : TEMPLATE.index("\n  AccountsTable:\n")]
    text = changed(table, table.replace(f"    {policy}: Retain\n", f"    {policy}: Delete\n"))
    assert house_findings(text) == [f"E9103 PlansTable needs {policy}: Retain"]


def test_an_unprotected_user_pool_is_found() -> None:
    text = changed("      DeletionProtection: ACTIVE\n", "      DeletionProtection: INACTIVE\n")
    assert house_findings(text) == ["E9103 UserPool needs DeletionProtection: ACTIVE"]
