"""DynamoDB through PynamoDB: the table models and the stores the use cases talk to.

Table names come from the environment (template.yaml sets them); the endpoint comes from
botocore's usual resolution, so `AWS_ENDPOINT_URL_DYNAMODB` points the same code at
DynamoDB Local."""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import STRING
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from renewal.adapters.aws import share_with_pynamodb
from renewal.domain.accounts import Account
from renewal.domain.lines import Bundle, Contribution
from renewal.domain.mail_events import COMPLAINED, OK, worse
from renewal.domain.plans import Plan
from renewal.domain.reminders import recheck_after_write
from renewal.domain.timeutil import from_iso, to_iso, utc_now
from renewal.ports import AccountExists, AccountRecord, LineRecord, LineTaken
from renewal.settings import reminder_policy

share_with_pynamodb()  # every model's connection on the one botocore session (renewal.adapters.aws)

POOL_AVAILABLE = "available"
# The reminder index spreads lines over this many partition keys, so a busy day's writes and a
# run's queries never pile onto one partition. Changing it needs every line re-keyed.
REMINDER_SHARDS = 8


def configured_table(variable: str) -> str:
    # A clear name in errors when a function was deployed without its table variable.
    return os.environ.get(variable, f"missing-env-{variable}")


def aws_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


class UTCInstantAttribute(Attribute[datetime]):
    """A UTC instant stored as ISO 8601 with `Z` (second precision), readable in the console."""

    attr_type = STRING

    def serialize(self, value: datetime) -> str:
        return to_iso(value)

    def deserialize(self, value: str) -> datetime:
        return from_iso(value)


class ContributionAttribute(MapAttribute[str, Any]):
    order_id = UnicodeAttribute()
    data_mb = NumberAttribute()
    remaining_mb = NumberAttribute()
    validity_s = NumberAttribute()


class BundleAttribute(MapAttribute[str, Any]):
    region = UnicodeAttribute()
    remaining_data_mb = NumberAttribute()
    expires_at = UTCInstantAttribute()
    started_at = UTCInstantAttribute()
    data_mb_at_top_up = NumberAttribute()
    topped_up_at = UTCInstantAttribute(null=True)
    plan_id = UnicodeAttribute(null=True)
    alerted_percent = NumberAttribute(null=True)
    generation = NumberAttribute(null=True)
    contributions = ListAttribute(of=ContributionAttribute, null=True)

    def to_bundle(self) -> Bundle:
        return Bundle(
            region=self.region,
            remaining_data_mb=int(self.remaining_data_mb),
            expires_at=self.expires_at,
            started_at=self.started_at,
            data_mb_at_top_up=int(self.data_mb_at_top_up),
            topped_up_at=self.topped_up_at,
            plan_id=self.plan_id,
            alerted_percent=int(self.alerted_percent or 0),
            generation=int(self.generation or 0),
            contributions=tuple(
                Contribution(c.order_id, int(c.data_mb), int(c.remaining_mb), int(c.validity_s))
                for c in self.contributions or ()
            ),
        )

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> BundleAttribute:
        return cls(
            region=bundle.region,
            remaining_data_mb=bundle.remaining_data_mb,
            expires_at=bundle.expires_at,
            started_at=bundle.started_at,
            data_mb_at_top_up=bundle.data_mb_at_top_up,
            topped_up_at=bundle.topped_up_at,
            plan_id=bundle.plan_id,
            alerted_percent=bundle.alerted_percent,
            generation=bundle.generation,
            contributions=[
                ContributionAttribute(
                    order_id=c.order_id, data_mb=c.data_mb, remaining_mb=c.remaining_mb, validity_s=c.validity_s
                )
                for c in bundle.contributions
            ],
        )


class PlansByRegion(GlobalSecondaryIndex["PlanModel"]):
    class Meta:
        index_name = "by_region"
        projection = AllProjection()

    region = UnicodeAttribute(hash_key=True)
    plan_id = UnicodeAttribute(range_key=True)


class PlanModel(Model):
    class Meta:
        table_name = configured_table("PLANS_TABLE")
        region = aws_region()

    plan_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    region = UnicodeAttribute()
    countries = UnicodeSetAttribute()
    data_mb = NumberAttribute()
    validity_days = NumberAttribute()
    prices = MapAttribute[str, Any]()
    by_region = PlansByRegion()

    def to_plan(self) -> Plan:
        return Plan(
            plan_id=self.plan_id,
            name=self.name,
            kind=self.kind,
            region=self.region,
            countries=tuple(sorted(self.countries or ())),
            data_mb=int(self.data_mb),
            validity_days=int(self.validity_days),
            prices={currency: int(amount) for currency, amount in self.prices.as_dict().items()},
        )

    @classmethod
    def from_plan(cls, plan: Plan) -> PlanModel:
        return cls(
            plan_id=plan.plan_id,
            name=plan.name,
            kind=plan.kind,
            region=plan.region,
            countries=set(plan.countries),
            data_mb=plan.data_mb,
            validity_days=plan.validity_days,
            prices=MapAttribute(**dict(plan.prices)),
        )


class AccountsByEmail(GlobalSecondaryIndex["AccountModel"]):
    class Meta:
        index_name = "by_email"
        projection = KeysOnlyProjection()

    email = UnicodeAttribute(hash_key=True)


class AccountModel(Model):
    class Meta:
        table_name = configured_table("ACCOUNTS_TABLE")
        region = aws_region()

    account_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    locale = UnicodeAttribute()
    time_zone = UnicodeAttribute()
    iccid = UnicodeAttribute(null=True)
    created_at = UTCInstantAttribute()
    expiry_reminders = BooleanAttribute(default=True)
    low_data_reminders = BooleanAttribute(default=True)
    email_status = UnicodeAttribute(null=True)  # absent: ok (renewal.domain.mail_events)
    email_status_at = UTCInstantAttribute(null=True)
    email_status_detail = UnicodeAttribute(null=True)
    by_email = AccountsByEmail()

    def to_record(self) -> AccountRecord:
        return AccountRecord(
            account=Account(
                account_id=self.account_id,
                email=self.email,
                locale=self.locale,
                time_zone=self.time_zone,
                iccid=self.iccid,
                created_at=self.created_at,
                expiry_reminders=self.expiry_reminders is not False,
                low_data_reminders=self.low_data_reminders is not False,
                email_status=self.email_status or "ok",
            ),
        )

    @classmethod
    def from_account(cls, account: Account) -> AccountModel:
        return cls(
            account_id=account.account_id,
            email=account.email,
            locale=account.locale,
            time_zone=account.time_zone,
            iccid=account.iccid,
            created_at=account.created_at,
        )


class LinesByPoolState(GlobalSecondaryIndex["LineModel"]):
    class Meta:
        index_name = "by_pool_state"
        projection = KeysOnlyProjection()

    pool_state = UnicodeAttribute(hash_key=True)
    iccid = UnicodeAttribute(range_key=True)


class LinesByRemindAt(GlobalSecondaryIndex["LineModel"]):
    """Sparse: only lines with a reminder still ahead carry remind_at (see template.yaml)."""

    class Meta:
        index_name = "by_remind_at"
        projection = IncludeProjection(["account_id", "bundles"])

    remind_shard = UnicodeAttribute(hash_key=True)
    remind_at = UTCInstantAttribute(range_key=True)


class LinesByChange(GlobalSecondaryIndex["LineModel"]):
    """Lines whose bundles changed, by day and shard: what reconciliation compares with the network."""

    class Meta:
        index_name = "by_change"
        projection = KeysOnlyProjection()

    changed_bucket = UnicodeAttribute(hash_key=True)  # "YYYY-MM-DD#<shard>" (UTC day of the change)
    changed_at = UTCInstantAttribute(range_key=True)


class LineModel(Model):
    class Meta:
        table_name = configured_table("LINES_TABLE")
        region = aws_region()

    iccid = UnicodeAttribute(hash_key=True)
    pin_hash = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)
    # Present only while the line waits in the online pool (sparse index by_pool_state).
    pool_state = UnicodeAttribute(null=True)
    bundles = ListAttribute(of=BundleAttribute, default=list)
    # Bumped by every bundle change; a change commits only if nobody else's did meanwhile.
    version = NumberAttribute(default=0)
    # The next moment a reminder of this line may fall due; absent when none is ahead.
    remind_at = UTCInstantAttribute(null=True)
    remind_shard = UnicodeAttribute(null=True)
    changed_at = UTCInstantAttribute(null=True)
    changed_bucket = UnicodeAttribute(null=True)
    by_pool_state = LinesByPoolState()
    by_remind_at = LinesByRemindAt()
    by_change = LinesByChange()

    def to_record(self) -> LineRecord:
        return LineRecord(
            iccid=self.iccid,
            pin_hash=self.pin_hash,
            account_id=self.account_id,
            bundles=tuple(b.to_bundle() for b in self.bundles or ()),
            version=int(self.version or 0),
            remind_at=self.remind_at,
        )


def reminder_shard(iccid: str) -> str:
    return str(zlib.crc32(iccid.encode()) % REMINDER_SHARDS)


def change_bucket(moment: datetime, shard: str) -> str:
    return f"{to_iso(moment)[:10]}#{shard}"


def reminder_index_key(
    iccid: str, bundles: Sequence[Bundle], previous_remind_at: datetime | None, now: datetime | None = None
) -> tuple[str | None, datetime | None]:
    """(remind_shard, remind_at) for a line holding `bundles`; (None, None) keeps it out of the index."""
    remind_at = recheck_after_write(bundles, previous_remind_at, now or utc_now(), reminder_policy())
    return (None, None) if remind_at is None else (reminder_shard(iccid), remind_at)


def bundle_write_actions(
    iccid: str, bundles: Sequence[Bundle], previous_remind_at: datetime | None, now: datetime | None = None
) -> list[Any]:
    """The update actions that store a line's new bundles and re-key it in the reminder index:
    every write of bundles goes through here, so the index never misses a change."""
    moment = now or utc_now()
    shard, remind_at = reminder_index_key(iccid, bundles, previous_remind_at, moment)
    return [
        LineModel.bundles.set([BundleAttribute.from_bundle(b) for b in bundles]),
        LineModel.changed_at.set(moment),
        LineModel.changed_bucket.set(change_bucket(moment, reminder_shard(iccid))),
        LineModel.remind_at.remove() if remind_at is None else LineModel.remind_at.set(remind_at),
        LineModel.remind_shard.remove() if shard is None else LineModel.remind_shard.set(shard),
    ]


def line_bundles_update(transaction: TransactWrite, line: LineRecord, bundles: Sequence[Bundle]) -> None:
    """Part of `transaction`: the line's new bundles, only if nobody else changed them since
    `line` was read (its version)."""
    version_holds = LineModel.version == line.version
    if line.version == 0:
        version_holds = version_holds | LineModel.version.does_not_exist()
    transaction.update(
        LineModel(iccid=line.iccid),
        actions=[*bundle_write_actions(line.iccid, bundles, line.remind_at), LineModel.version.set(line.version + 1)],
        condition=LineModel.iccid.exists() & version_holds,
    )


@cache
def transaction_connection() -> Connection:
    """One connection (one botocore client) per process for transactions: making a client costs
    more CPU than the transaction itself (`make bench` measures it)."""
    return Connection(region=aws_region())


def claim_mail_on(item: Model, claimed_at: Any, sent: Any, now: datetime, lease: timedelta) -> bool:
    """Takes an item's mail claim (attributes `claimed_at` and `sent`) for the one caller that may
    send now: not sent, and no claim younger than `lease` (an older one belongs to a dead worker)."""
    try:
        item.update(
            actions=[claimed_at.set(now)],
            condition=(sent == False) & (claimed_at.does_not_exist() | (claimed_at < now - lease)),  # noqa: E712  (a DynamoDB condition)
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def release_mail_on(item: Model, claimed_at: Any, sent: Any, held_since: datetime) -> None:
    """Gives up the claim taken at `held_since`, unless someone else's claim replaced it."""
    try:
        item.update(
            actions=[claimed_at.remove()],
            condition=(claimed_at == held_since) & (sent == False),  # noqa: E712  (a DynamoDB condition)
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise


def condition_failed(error: Exception) -> bool:
    """A conditional write (not a transaction) was refused by its condition."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def cancelled_by_condition(error: TransactWriteError, position: int) -> bool:
    reasons = error.cancellation_reasons or []
    reason = reasons[position] if len(reasons) > position else None
    return reason is not None and reason.code == "ConditionalCheckFailed"


class DynamoPlanCatalog:
    """The catalog changes rarely: each Lambda instance keeps what it read for `ttl_seconds`."""

    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, list[Plan]]] = {}

    def _cached(self, key: str, load: Any) -> list[Plan]:
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        plans: list[Plan] = load()
        self._cache[key] = (time.monotonic(), plans)
        return plans

    def all_plans(self) -> list[Plan]:
        return self._cached("*", lambda: [m.to_plan() for m in PlanModel.scan()])

    def plans_in_region(self, region: str) -> list[Plan]:
        return self._cached(f"region:{region}", lambda: [m.to_plan() for m in PlanModel.by_region.query(region)])

    def get(self, plan_id: str) -> Plan | None:
        for plan in self.all_plans():
            if plan.plan_id == plan_id:
                return plan
        return None


class DynamoLineStore:
    def get(self, iccid: str) -> LineRecord | None:
        try:
            return LineModel.get(iccid, consistent_read=True).to_record()
        except LineModel.DoesNotExist:
            return None

    def changed_since(self, since: datetime, now: datetime) -> list[str]:
        """ICCIDs of lines whose bundles changed in [since, now], from the by_change index."""
        days = sorted({to_iso(since)[:10], to_iso(now)[:10]})
        if (now - since).days >= 1:  # a window longer than a day spans the days between too
            days = sorted({to_iso(since + timedelta(days=d))[:10] for d in range((now - since).days + 1)} | set(days))
        found: list[str] = []
        for day in days:
            for shard in range(REMINDER_SHARDS):
                found += [
                    line.iccid for line in LineModel.by_change.query(f"{day}#{shard}", LineModel.changed_at >= since)
                ]
        return sorted(set(found))

    def pool_available(self) -> int:
        """Lines waiting in the pool: a count over the sparse by_pool_state index (keys only)."""
        return LineModel.by_pool_state.count(POOL_AVAILABLE)

    def pool_candidates(self, limit: int) -> list[str]:
        return [line.iccid for line in LineModel.by_pool_state.query(POOL_AVAILABLE, limit=limit)]


class DynamoAccountStore:
    def get(self, account_id: str, *, consistent: bool = True) -> AccountRecord | None:
        try:
            return AccountModel.get(account_id, consistent_read=consistent).to_record()
        except AccountModel.DoesNotExist:
            return None

    def with_email(self, email: str, limit: int) -> list[AccountRecord]:
        keys = AccountModel.by_email.query(email.strip().lower(), limit=limit)
        return [record for key in keys if (record := self.get(key.account_id)) is not None]

    # ------------------------------------------------------------ mail reputation (MailReputation)
    def _ids_by_email(self, address: str) -> list[str]:
        return [key.account_id for key in AccountModel.by_email.query(address.strip().lower())]

    def mark_undeliverable(self, address: str, status: str, detail: str, at: datetime) -> int:
        """Marks every account with this address; a complaint is never downgraded to a bounce."""
        marked = 0
        for account_id in self._ids_by_email(address):
            try:
                AccountModel(account_id=account_id).update(
                    actions=[
                        AccountModel.email_status.set(status),
                        AccountModel.email_status_at.set(at),
                        AccountModel.email_status_detail.set(detail),
                    ],
                    condition=AccountModel.account_id.exists()
                    & (AccountModel.email_status.does_not_exist() | (AccountModel.email_status != COMPLAINED)),
                )
                marked += 1
            except UpdateError as error:
                if not condition_failed(error):
                    raise
        return marked

    def email_status(self, address: str) -> str:
        """The worst status of the accounts with this address ("ok" when none is marked)."""
        status = OK
        for account_id in self._ids_by_email(address):
            record = self.get(account_id, consistent=False)
            if record is not None:
                status = worse(status, record.account.email_status)
        return status

    def create(self, account: Account) -> None:
        try:
            AccountModel.from_account(account).save(condition=AccountModel.account_id.does_not_exist())
        except PutError as error:
            if condition_failed(error):
                raise AccountExists(account.account_id) from error
            raise

    def link_line(self, account: Account, *, create: bool, release_iccid: str | None) -> None:
        assert account.iccid is not None
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                if create:
                    transaction.save(
                        AccountModel.from_account(account), condition=AccountModel.account_id.does_not_exist()
                    )
                else:
                    transaction.update(
                        AccountModel(account_id=account.account_id),
                        actions=[AccountModel.iccid.set(account.iccid)],
                        condition=AccountModel.account_id.exists(),
                    )
                transaction.update(
                    LineModel(iccid=account.iccid),
                    actions=[LineModel.account_id.set(account.account_id), LineModel.pool_state.remove()],
                    condition=LineModel.account_id.does_not_exist() | (LineModel.account_id == account.account_id),
                )
                if release_iccid:
                    # Back to the pool only if it is still ours and was never renewed: no bundle
                    # was ever written (every bundle write bumps `version`).
                    transaction.update(
                        LineModel(iccid=release_iccid),
                        actions=[LineModel.account_id.remove(), LineModel.pool_state.set(POOL_AVAILABLE)],
                        condition=(LineModel.account_id == account.account_id)
                        & (LineModel.bundles.does_not_exist() | (size(LineModel.bundles) == 0))
                        & (LineModel.version.does_not_exist() | (LineModel.version == 0)),
                    )
        except TransactWriteError as error:
            if create and cancelled_by_condition(error, 0):
                raise AccountExists(account.account_id) from error
            if any(cancelled_by_condition(error, i) for i in (1, 2)):
                raise LineTaken(account.iccid) from error
            raise

    def save_preferences(self, account: Account) -> None:
        AccountModel(account_id=account.account_id).update(
            actions=[
                AccountModel.locale.set(account.locale),
                AccountModel.time_zone.set(account.time_zone),
                AccountModel.expiry_reminders.set(account.expiry_reminders),
                AccountModel.low_data_reminders.set(account.low_data_reminders),
            ],
            condition=AccountModel.account_id.exists(),
        )
