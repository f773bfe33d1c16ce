"""Reconciliation issues for a person, one item per issue id (kept until someone closes it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from renewal.adapters.dynamodb import UTCInstantAttribute, aws_region, condition_failed, configured_table
from renewal.domain.issues import Issue


class IssueModel(Model):
    class Meta:
        table_name = configured_table("RECONCILIATION_ISSUES_TABLE")
        region = aws_region()

    issue_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    iccid = UnicodeAttribute()
    region = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    detail = UnicodeAttribute()
    status = UnicodeAttribute()  # open | closed (by a person)
    first_seen = UTCInstantAttribute()
    last_seen = UTCInstantAttribute()


class DynamoIssueLog:
    def flag(self, issue: Issue, now: datetime) -> bool:
        common: list[Any] = [IssueModel.detail.set(issue.detail), IssueModel.last_seen.set(now)]
        try:
            IssueModel(issue_id=issue.issue_id).update(
                actions=[
                    *common,
                    IssueModel.kind.set(issue.kind),
                    IssueModel.iccid.set(issue.iccid),
                    IssueModel.region.set(issue.region),
                    IssueModel.status.set("open"),
                    IssueModel.first_seen.set(now),
                    *([IssueModel.order_id.set(issue.order_id)] if issue.order_id else []),
                ],
                condition=IssueModel.issue_id.does_not_exist(),
            )
            return True
        except UpdateError as error:
            if not condition_failed(error):
                raise
        IssueModel(issue_id=issue.issue_id).update(actions=common)  # seen again
        return False
