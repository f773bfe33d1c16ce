"""The reminder run, the sender and usage ingestion over fakes: exactly the right mails, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from renewal.domain.accounts import Account
from renewal.domain.errors import Unauthorized
from renewal.domain.lines import Bundle, luhn_check_digit
from renewal.domain.plans import Plan, plan_from_dict
from renewal.domain.reminders import ReminderPolicy
from renewal.domain.usage import usage_signature
from renewal.ports import AccountRecord, DueLine, LineRecord
from renewal.usecases.reminders import ReminderPending, ReminderRun, ReminderSender
from renewal.usecases.usage import UsageIngest
from tests.unit.fakes import FakeAccounts, FakeLines
from tests.unit.fakes_orders import FakeMailer
from tests.unit.fakes_reminders import FakeReminderIndex, FakeReminderLog, FakeReminderQueue, FakeUsageLedger

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECRET = "usage_unit_secret"
EU_PLAN = plan_from_dict(
    {"plan_id": "eu-monthly", "name": "Europe monthly", "kind": "monthly", "region": "EU", "countries": ["FR", "DE"],
     "data_mb": 1000, "validity_days": 30, "prices": {"EUR": 1000}}
)  # fmt: skip


def iccid(n: int) -> str:
    body = f"898520000000{n:06d}"
    return body + luhn_check_digit(body)


class SnapshotIndex(FakeReminderIndex):
    """Reads the index as it was at some earlier moment; moves lines in the current one."""

    def __init__(self, lines: FakeLines, snapshot: FakeLines) -> None:
        super().__init__(lines)
        self.snapshot = FakeReminderIndex(snapshot)

    def due(self, shard: str, now: datetime) -> Iterator[DueLine]:
        return self.snapshot.due(shard, now)


class Catalog:
    def all_plans(self) -> list[Plan]:
        return [EU_PLAN]

    def plans_in_region(self, region: str) -> list[Plan]:
        return [EU_PLAN] if region == "EU" else []

    def get(self, plan_id: str) -> Plan | None:
        return EU_PLAN if plan_id == EU_PLAN.plan_id else None


@dataclass
class World:
    now: list[datetime] = field(default_factory=lambda: [NOW])
    lines: FakeLines = field(default_factory=FakeLines)

    def __post_init__(self) -> None:
        self.accounts = FakeAccounts(self.lines)
        self.index = FakeReminderIndex(self.lines)
        self.queue = FakeReminderQueue()
        self.log = FakeReminderLog()
        self.mailer = FakeMailer()
        self.ledger = FakeUsageLedger(self.lines)
        clock = lambda: self.now[0]  # noqa: E731
        self.run = ReminderRun(self.index, self.queue, ReminderPolicy(), workers=2)
        self.sender = ReminderSender(
            self.accounts, self.lines, self.log, self.mailer, "https://renew.example/app/?renew={plan_id}", clock
        )
        self.usage = UsageIngest(
            self.lines,
            self.ledger,
            Catalog(),
            self.queue,
            lambda: SECRET,
            ReminderPolicy(),
            clock,
        )

    def customer(
        self,
        n: int,
        expires_in: timedelta,
        topped_up_ago: timedelta,
        *,
        locale: str = "en",
        time_zone: str = "UTC",
        expiry: bool = True,
        low_data: bool = True,
        remaining: int = 800,
    ) -> str:
        line_id = iccid(n)
        account = Account(
            f"acct-{n}", f"c{n}@example.com", locale, time_zone, line_id, NOW - 60 * DAY, expiry, low_data
        )
        self.accounts.accounts[account.account_id] = AccountRecord(account)
        bought = NOW - topped_up_ago
        bundle = Bundle("EU", remaining, NOW + expires_in, bought, 1000, topped_up_at=bought, plan_id="eu-monthly")
        self.lines.add(LineRecord(line_id, "pin", account.account_id))
        self.lines.write_bundles(self.lines.lines[line_id], (bundle,), now=bought)  # as activation wrote it
        return line_id

    def deliver(self) -> list[str]:
        """The sender drains the queue as the SQS poller would (each message once)."""
        return [self.sender.send(m) for m in self.queue.take_all()]

    def mails(self) -> list[tuple[str, str]]:
        return [(m.to, m.subject) for m in self.mailer.sent]


def test_exactly_the_right_mails_once_even_when_the_run_repeats() -> None:
    world = World()
    world.customer(1, 7 * DAY, 23 * DAY)  # 7 days left
    world.customer(2, DAY, 29 * DAY)  # 1 day left
    world.customer(3, timedelta(hours=3), 29 * DAY)  # ends later today
    world.customer(4, -timedelta(hours=1), 30 * DAY)  # ended an hour ago
    world.customer(5, 30 * DAY, timedelta(0))  # 30 days left
    world.customer(6, DAY - timedelta(minutes=1), timedelta(minutes=1))  # a daily plan just bought

    report = world.run.run(NOW)
    assert (report["due_lines"], report["queued"]) == (4, 4)
    assert world.deliver() == ["sent"] * 4
    assert sorted(world.mails()) == [
        ("c1@example.com", "Your Europe plan ends in 7 days"),
        ("c2@example.com", "Your Europe plan ends in 1 day"),
        ("c3@example.com", "Your Europe plan ends in 3 hours"),
        ("c4@example.com", "Your eSIM plan has expired"),
    ]
    assert report["items_read"] == 4  # the index held exactly the due lines

    for _ in range(3):  # the scheduler's retries, Lambda's async retries: the same run again
        assert world.run.run(NOW)["queued"] == 0
    assert world.deliver() == []
    assert len(world.mailer.sent) == 4

    world.now[0] = NOW + 6 * DAY
    world.run.run(NOW + 6 * DAY)
    world.deliver()
    assert sorted(world.mails()[4:]) == [
        ("c1@example.com", "Your Europe plan ends in 1 day"),
        ("c2@example.com", "Your eSIM plan has expired"),
        ("c3@example.com", "Your eSIM plan has expired"),
        ("c6@example.com", "Your eSIM plan has expired"),  # the daily plan: only its expiry
    ]


def test_overlapping_runs_and_a_run_that_died_after_queueing_send_each_mail_once() -> None:
    world = World()
    for n in range(10):
        world.customer(n, DAY, 29 * DAY)
    before_any_run = FakeLines()
    before_any_run.lines = dict(world.lines.lines)
    world.index.advance_fails = True
    with pytest.raises(ConnectionError):
        world.run.run(NOW)  # queued, then died before moving the lines on
    world.index.advance_fails = False
    assert world.run.run(NOW)["moved_on"] == 10  # the retry queues the same reminders again
    # A run overlapping that one read the index before the lines were moved on: it queues them
    # too, and its conditional moves find them moved.
    overlapping = ReminderRun(SnapshotIndex(world.lines, before_any_run), world.queue, ReminderPolicy())
    assert overlapping.run(NOW)["moved_by_others"] == 10
    assert len(world.queue.messages) >= 20  # every reminder queued at least twice
    outcomes = world.deliver()
    assert outcomes.count("sent") == 10
    assert set(outcomes) == {"sent", "duplicate"}
    assert len({m.to for m in world.mailer.sent}) == len(world.mailer.sent) == 10


def test_locale_and_time_zone_and_renew_link() -> None:
    world = World()
    world.customer(1, DAY, 29 * DAY, locale="zh-CN", time_zone="Asia/Shanghai")
    world.run.run(NOW)
    world.deliver()
    (mail,) = world.mailer.sent
    assert mail.subject == "您的欧洲套餐将在1 天后到期"
    assert "2026-11-26 17:00 CST" in mail.text  # 09:00 UTC in Shanghai
    assert "https://renew.example/app/?renew=eu-monthly" in mail.text
    assert '<a href="https://renew.example/app/?renew=eu-monthly">' in mail.html
    assert 'lang="zh-CN"' in mail.html


def test_a_muted_reminder_is_not_sent_and_not_counted_as_sent() -> None:
    world = World()
    world.customer(1, DAY, 29 * DAY, expiry=False)
    world.run.run(NOW)
    assert world.deliver() == ["muted"]
    assert world.mailer.sent == [] and world.log.sent == {} and world.log.claims == {}


def test_a_reminder_about_an_expiry_the_customer_has_since_renewed_is_not_sent() -> None:
    world = World()
    line_id = world.customer(1, DAY, 29 * DAY)
    world.run.run(NOW)
    line = world.lines.lines[line_id]
    renewed = replace(line.bundles[0], expires_at=NOW + 31 * DAY, topped_up_at=NOW, remaining_data_mb=1800)
    world.lines.write_bundles(line, (renewed,), now=NOW)
    assert world.deliver() == ["stale"]


def test_a_failed_send_is_retried_and_a_held_claim_defers_a_duplicate() -> None:
    world = World()
    world.customer(1, DAY, 29 * DAY)
    world.run.run(NOW)
    (message,) = world.queue.take_all()
    world.mailer.fail = True
    with pytest.raises(ConnectionError):
        world.sender.send(message)
    world.mailer.fail = False
    assert world.sender.send(message) == "sent"  # the claim was released, the redelivery sends
    assert world.sender.send(message) == "duplicate"
    assert len(world.mailer.sent) == 1
    # A duplicate arriving while another sender holds the claim waits (SQS brings it back).
    world.customer(2, DAY, 29 * DAY)
    world.run.run(NOW)
    (other,) = world.queue.take_all()
    assert world.log.claim(other.key.id, "acct-2", NOW)
    with pytest.raises(ReminderPending):
        world.sender.send(other)


# ---------------------------------------------------------------- usage
def post(world: World, *records: dict[str, object], secret: str = SECRET) -> dict[str, object]:
    body = json.dumps({"records": list(records)}).encode()
    return world.usage.ingest(body, usage_signature(body, secret, int(world.now[0].timestamp())))


def used(record_id: str, line_id: str, mb: int, minutes_ago: int = 10, country: str = "FR") -> dict[str, object]:
    at = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"record_id": record_id, "iccid": line_id, "country": country, "data_mb": mb, "used_at": at}


def remaining(world: World, line_id: str) -> int:
    return world.lines.lines[line_id].bundles[0].remaining_data_mb


def test_usage_records_count_once_with_duplicates_and_out_of_order_batches() -> None:
    world = World()
    line_id = world.customer(1, 10 * DAY, 5 * DAY, remaining=1000)
    later = [used("r3", line_id, 30, 5), used("r4", line_id, 40, 1)]
    earlier = [used("r1", line_id, 10, 50), used("r2", line_id, 20, 40)]
    assert post(world, *later)["applied"] == 2
    assert post(world, *earlier, *later) == {
        "received": 4, "applied": 2, "duplicates": 2, "unknown_iccids": [], "uncovered_mb": 0, "alerts_queued": 0
    }  # fmt: skip
    assert remaining(world, line_id) == 900
    assert post(world, *earlier)["duplicates"] == 2
    assert remaining(world, line_id) == 900 and len(world.ledger.records) == 4


def test_usage_never_takes_a_bundle_below_zero_and_reports_what_no_bundle_covers() -> None:
    world = World()
    line_id = world.customer(1, 10 * DAY, 5 * DAY, remaining=100)
    report = post(world, used("a", line_id, 150), used("b", line_id, 7, country="JP"), used("c", iccid(99), 5))
    assert remaining(world, line_id) == 0
    assert report["uncovered_mb"] == 57
    assert report["unknown_iccids"] == [iccid(99)]
    assert "c" not in world.ledger.records


def test_a_bad_signature_is_refused_and_nothing_is_applied() -> None:
    world = World()
    line_id = world.customer(1, 10 * DAY, 5 * DAY, remaining=1000)
    before = dict(world.lines.lines)
    with pytest.raises(Unauthorized):
        post(world, used("r1", line_id, 10), secret="not-the-secret")
    body = json.dumps({"records": [used("r1", line_id, 10)]}).encode()
    with pytest.raises(Unauthorized):
        world.usage.ingest(body, None)
    assert world.lines.lines == before and world.ledger.records == {} and world.queue.messages == []


def test_low_data_alerts_at_75_90_and_100_percent_once_each_per_top_up() -> None:
    world = World()
    line_id = world.customer(1, 10 * DAY, 5 * DAY, remaining=1000)
    post(world, used("a", line_id, 700))
    assert world.queue.messages == []
    post(world, used("b", line_id, 60))  # 76 %
    post(world, used("b", line_id, 60), used("c", line_id, 10))  # 77 %: nothing new
    post(world, used("d", line_id, 140))  # 91 %
    post(world, used("e", line_id, 500))  # 100 %, and no lower than zero
    assert [m.key.kind for m in world.queue.messages] == ["data_used_75", "data_used_90", "data_used_100"]
    world.deliver()
    assert [m.subject for m in world.mailer.sent] == [
        "You have used 75% of your Europe data",
        "You have used 90% of your Europe data",
        "You have used 100% of your Europe data",
    ]
    assert remaining(world, line_id) == 0
    # A top-up starts over: the same shares alert again, keyed by the new top-up.
    line = world.lines.lines[line_id]
    topped = replace(
        line.bundles[0], remaining_data_mb=1000, data_mb_at_top_up=1000, topped_up_at=NOW, alerted_percent=0
    )
    world.lines.write_bundles(line, (topped,), now=NOW)
    post(world, used("f", line_id, 800))
    assert [m.key.kind for m in world.queue.messages] == ["data_used_75"]


def test_a_muted_low_data_alert_is_not_sent_and_a_lost_race_is_retried() -> None:
    world = World()
    line_id = world.customer(1, 10 * DAY, 5 * DAY, remaining=1000, low_data=False)
    world.ledger.lose_races = 2
    assert post(world, used("a", line_id, 800))["applied"] == 1
    assert remaining(world, line_id) == 200
    assert world.deliver() == ["muted", "muted", "muted"]  # queued before each attempt; none sent
    assert world.mailer.sent == []
