"""The local EventBridge Scheduler stand-in: expression evaluation, firing, run-now, its control
route on the gateway and the `make remind` client, with a fake function (no stack needed)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local import remind
from infra.local.emulators import free_port
from infra.local.gateway import LocalHttpApi
from infra.local.lambda_runtime import InvocationError
from infra.local.scheduler import (
    LocalScheduler,
    UnknownSchedule,
    next_fire,
    parse_expression,
    schedule_control,
    scheduler_input,
)
from infra.local.template import ScheduleSpec

REMINDER_INPUT = '{"scheduled_time": "<aws.scheduler.scheduled-time>", "run_id": "<aws.scheduler.execution-id>"}'
DAILY = ScheduleSpec("ExpiryNotifyFunction-DailyReminders", "cron(0 9 * * ? *)", "UTC", REMINDER_INPUT, True)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---------------------------------------------------------------------------- expressions
@pytest.mark.parametrize(
    ("expression", "timezone", "after", "expected"),
    [
        # daily at 09:00: later the same day, the next day when it has passed; strictly after
        ("cron(0 9 * * ? *)", "UTC", "2026-03-01T08:59:59", "2026-03-01T09:00:00"),
        ("cron(0 9 * * ? *)", "UTC", "2026-03-01T09:00:00", "2026-03-02T09:00:00"),
        # evaluated in the schedule's zone: 09:00 in Hong Kong is 01:00 UTC
        ("cron(0 9 * * ? *)", "Asia/Hong_Kong", "2026-03-01T00:30:00", "2026-03-01T01:00:00"),
        ("cron(0 9 * * ? *)", "Asia/Hong_Kong", "2026-03-01T02:00:00", "2026-03-02T01:00:00"),
        ("cron(0 9 * * ? *)", "America/New_York", "2026-01-10T00:00:00", "2026-01-10T14:00:00"),  # EST
        ("cron(0 9 * * ? *)", "America/New_York", "2026-07-10T00:00:00", "2026-07-10T13:00:00"),  # EDT
        # a local day that is the previous UTC day
        ("cron(30 0 1 * ? *)", "Asia/Tokyo", "2026-02-15T00:00:00", "2026-02-28T15:30:00"),
        # day-of-week, numbered 1 = SUN .. 7 = SAT, names too
        ("cron(0 8 ? * MON-FRI *)", "UTC", "2026-01-30T09:00:00", "2026-02-02T08:00:00"),  # Fri -> Mon
        ("cron(0 0 ? * 1 *)", "UTC", "2026-01-29T00:00:00", "2026-02-01T00:00:00"),  # a Sunday
        ("cron(0 0 ? * 7 *)", "UTC", "2026-01-29T00:00:00", "2026-01-31T00:00:00"),  # a Saturday
        ("cron(0 0 ? * sat,SUN *)", "UTC", "2026-01-31T00:00:00", "2026-02-01T00:00:00"),
        # month boundaries: last day, 31st only in long months, year rollover, leap day
        ("cron(0 0 L * ? *)", "UTC", "2026-02-01T00:00:00", "2026-02-28T00:00:00"),
        ("cron(0 0 L * ? *)", "UTC", "2028-02-01T00:00:00", "2028-02-29T00:00:00"),
        ("cron(0 0 L * ? *)", "UTC", "2026-12-31T00:00:00", "2027-01-31T00:00:00"),
        ("cron(0 0 31 * ? *)", "UTC", "2026-04-01T00:00:00", "2026-05-31T00:00:00"),
        ("cron(0 0 1 JAN ? *)", "UTC", "2026-06-01T00:00:00", "2027-01-01T00:00:00"),
        ("cron(0 12 29 FEB ? *)", "UTC", "2026-01-01T00:00:00", "2028-02-29T12:00:00"),
        ("cron(0 0 1 1 ? 2030)", "UTC", "2026-06-01T00:00:00", "2030-01-01T00:00:00"),
        # steps and ranges
        ("cron(*/15 * * * ? *)", "UTC", "2026-03-01T10:07:00", "2026-03-01T10:15:00"),
        ("cron(*/15 * * * ? *)", "UTC", "2026-03-01T23:50:00", "2026-03-02T00:00:00"),
        ("cron(5/20 * * * ? *)", "UTC", "2026-03-01T10:46:00", "2026-03-01T11:05:00"),
        ("cron(0 1-5/2 * * ? *)", "UTC", "2026-03-01T03:00:00", "2026-03-01T05:00:00"),
        ("cron(0 1-5/2 * * ? *)", "UTC", "2026-03-01T05:00:00", "2026-03-02T01:00:00"),
        ("cron(0 0 1 */3 ? *)", "UTC", "2026-02-01T00:00:00", "2026-04-01T00:00:00"),
        ("cron(0 9,18 * * ? *)", "UTC", "2026-03-01T09:00:00", "2026-03-01T18:00:00"),
        # rate counts from `after`; at() is one time in its zone
        ("rate(1 minute)", "UTC", "2026-03-01T10:00:30", "2026-03-01T10:01:30"),
        ("rate(5 minutes)", "UTC", "2026-03-01T10:00:00", "2026-03-01T10:05:00"),
        ("rate(2 hours)", "UTC", "2026-03-01T23:00:00", "2026-03-02T01:00:00"),
        ("rate(1 day)", "UTC", "2026-02-28T12:00:00", "2026-03-01T12:00:00"),
        ("at(2026-03-01T09:00:00)", "Asia/Hong_Kong", "2026-02-01T00:00:00", "2026-03-01T01:00:00"),
    ],
)
def test_next_fire(expression: str, timezone: str, after: str, expected: str) -> None:
    assert next_fire(expression, timezone, utc(after)) == utc(expected)


@pytest.mark.parametrize(
    ("expression", "after"),
    [
        ("at(2026-03-01T09:00:00)", "2026-03-01T09:00:00"),  # a one-time schedule, already past
        ("cron(0 0 1 1 ? 2020)", "2026-01-01T00:00:00"),  # only past years
        ("cron(0 0 31 2 ? *)", "2026-01-01T00:00:00"),  # a day that never comes
    ],
)
def test_no_next_fire(expression: str, after: str) -> None:
    assert next_fire(expression, "UTC", utc(after)) is None


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("daily", "expected cron(...), rate(...) or at(...)"),
        ("cron(0 9 * * ?)", "6 fields"),
        ("cron(0 9 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 9 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 9 * * ? *)", "minutes field: 60 is outside 0-59"),
        ("cron(0 24 * * ? *)", "hours field"),
        ("cron(0 9 0 * ? *)", "day-of-month field: 0 is outside 1-31"),
        ("cron(0 9 ? * 8 *)", "day-of-week field"),
        ("cron(0 9 1 13 ? *)", "month field"),
        ("cron(0 9 1 * ? 1969)", "year field"),
        ("cron(0 9 1 FOO ? *)", "'FOO' is not a valid value"),
        ("cron(*/0 9 * * ? *)", "step"),
        ("cron(0 9 5-1 * ? *)", "runs backwards"),
        ("cron(0 9 15W * ? *)", "not supported"),
        ("cron(0 9 LW * ? *)", "not supported"),
        ("cron(0 9 ? * 6#3 *)", "not supported"),
        ("cron(0 9 ? * 6L *)", "not supported"),
        ("cron(? 9 1 * ? *)", "'?' is only allowed"),
        ("rate(0 minutes)", "positive"),
        ("rate(1 week)", "minute|minutes|hour|hours|day|days"),
        ("rate(minutes)", "minute|minutes"),
        ("at(2026-03-01 09:00)", "at(yyyy-mm-ddThh:mm:ss)"),
    ],
)
def test_invalid_expressions_say_what_is_wrong(expression: str, says: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_expression(expression)
    assert str(raised.value).startswith(repr(expression))  # names the expression
    assert says in str(raised.value)


def test_an_unknown_zone_or_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="IANA"):
        next_fire("rate(1 hour)", "Mars/Olympus", utc("2026-03-01T00:00:00"))
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire("rate(1 hour)", "UTC", datetime(2026, 3, 1))


# ---------------------------------------------------------------------------- events
def test_input_gets_the_context_attributes_as_the_service_fills_them() -> None:
    template = (
        '{"t": "<aws.scheduler.scheduled-time>", "id": "<aws.scheduler.execution-id>",'
        ' "attempt": <aws.scheduler.attempt-number>, "arn": "<aws.scheduler.schedule-arn>"}'
    )
    event = scheduler_input(
        template,
        scheduled_time=datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC),
        schedule_arn="arn:aws:scheduler:us-east-1:123456789012:schedule/default/s",
        execution_id="e-1",
    )
    assert event == {
        "t": "2026-03-01T09:00:00Z",
        "id": "e-1",
        "attempt": 1,
        "arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/s",
    }
    assert scheduler_input(None, scheduled_time=utc("2026-03-01T09:00:00"), schedule_arn="a", execution_id="e") == {}


def test_a_bad_schedule_is_refused_when_the_scheduler_is_built() -> None:
    with pytest.raises(ValueError, match="schedule S: 'cron"):
        LocalScheduler([("F", ScheduleSpec("S", "cron(0 9 * * * *)", "UTC", None, True))], _unused)
    with pytest.raises(ValueError, match="schedule S: its Input is not JSON"):
        LocalScheduler([("F", ScheduleSpec("S", "rate(1 day)", "UTC", "{not json", True))], _unused)
    with pytest.raises(ValueError, match="schedule S: 'Nowhere' is not an IANA time zone"):
        LocalScheduler([("F", ScheduleSpec("S", "rate(1 day)", "Nowhere", None, True))], _unused)
    with pytest.raises(ValueError, match="two schedules are named"):
        LocalScheduler([("F", DAILY), ("G", DAILY)], _unused)


def _unused(function: str, event: Any) -> Any:
    raise AssertionError("not invoked")


# ---------------------------------------------------------------------------- firing
class Recorder:
    def __init__(self, fail_first: int = 0, result: Any = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_first = fail_first
        self.result = result if result is not None else {"due_lines": 0, "queued": 0}
        self.lock = threading.Lock()
        self.called = threading.Condition(self.lock)

    def __call__(self, function: str, event: Any) -> Any:
        with self.called:
            self.calls.append((function, event))
            self.called.notify_all()
            failing = len(self.calls) <= self.fail_first
        if failing:
            raise InvocationError("Exception", "boom", "Traceback ...")
        return {**self.result, "as_of": event.get("scheduled_time")}

    def wait_for(self, count: int, timeout: float = 2.0) -> list[tuple[str, Any]]:
        with self.called:
            assert self.called.wait_for(lambda: len(self.calls) >= count, timeout), self.calls
            return list(self.calls)


def test_due_runs_come_once_each_at_their_time() -> None:
    hourly = ScheduleSpec("Hourly", "cron(0 * * * ? *)", "UTC", None, True)
    off = ScheduleSpec("Off", "rate(1 minute)", "UTC", None, False)
    scheduler = LocalScheduler([("F", DAILY), ("G", hourly), ("H", off)], _unused)
    scheduler.arm(utc("2026-03-01T08:30:00"))
    assert scheduler.take_due(utc("2026-03-01T08:59:59")) == []
    fired = scheduler.take_due(utc("2026-03-01T09:00:00"))
    assert [(t.spec.name, when) for t, when in fired] == [
        (DAILY.name, utc("2026-03-01T09:00:00")),
        ("Hourly", utc("2026-03-01T09:00:00")),
    ]
    assert scheduler.take_due(utc("2026-03-01T09:00:20")) == []
    assert [t.spec.name for t, _ in scheduler.take_due(utc("2026-03-01T10:00:00"))] == ["Hourly"]
    assert scheduler.next_wake(utc("2026-03-01T10:59:59.5")) == 0.5


def test_runs_missed_while_the_machine_slept_are_skipped_not_replayed(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = LocalScheduler([("F", DAILY)], _unused)
    scheduler.arm(utc("2026-03-01T08:00:00"))
    with caplog.at_level(logging.WARNING, "scheduler"):
        fired = scheduler.take_due(utc("2026-03-05T09:30:00"))
    assert [when for _, when in fired] == [utc("2026-03-01T09:00:00")]
    assert "skipping the runs missed" in caplog.text
    assert scheduler.take_due(utc("2026-03-05T23:59:00")) == []
    assert len(scheduler.take_due(utc("2026-03-06T09:00:00"))) == 1


def fast_clock(start: datetime, speed: float) -> Callable[[], datetime]:
    """Real time from `start`, `speed` times faster: a scheduled minute passes in 60/speed s."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=(time.monotonic() - began) * speed)


def test_the_thread_fires_each_schedule_with_its_input_and_survives_a_function_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder(fail_first=1)
    every_minute = ScheduleSpec("EveryMinute", "rate(1 minute)", "UTC", '{"arn": "<aws.scheduler.schedule-arn>"}', True)
    scheduler = LocalScheduler(
        [("ExpiryNotifyFunction", DAILY), ("Other", every_minute)],
        recorder,
        clock=fast_clock(utc("2026-03-01T08:59:50"), speed=600),
        poll_seconds=0.01,
    )
    with caplog.at_level(logging.ERROR, "scheduler"):
        scheduler.start()
        try:
            calls = recorder.wait_for(3)
        finally:
            began = time.monotonic()
            scheduler.stop()
    assert time.monotonic() - began < 0.5
    daily = [event for function, event in calls if function == "ExpiryNotifyFunction"]
    assert daily[0]["scheduled_time"] == "2026-03-01T09:00:00Z"
    assert len(daily[0]["run_id"]) == 36
    others = [event for function, event in calls if function == "Other"]
    assert len(others) >= 2
    assert others[0] == {"arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/EveryMinute"}
    assert "boom" in caplog.text  # the daily run failed: logged, and the scheduler kept firing


def test_run_now_invokes_at_once_as_of_the_given_time() -> None:
    recorder = Recorder()
    scheduler = LocalScheduler(
        [("ExpiryNotifyFunction", DAILY)], recorder, clock=lambda: datetime(2026, 3, 2, 7, 1, 2, 999, tzinfo=UTC)
    )
    result = scheduler.run_now(DAILY.name, utc("2026-03-01T09:00:00"))
    assert result["as_of"] == "2026-03-01T09:00:00Z"
    assert scheduler.run_now(DAILY.name)["as_of"] == "2026-03-02T07:01:02Z"
    first, second = (event["run_id"] for _, event in recorder.calls)
    assert first != second
    with pytest.raises(UnknownSchedule):
        scheduler.run_now("nope")
    assert scheduler.describe() == [
        {
            "name": DAILY.name,
            "function": "ExpiryNotifyFunction",
            "expression": "cron(0 9 * * ? *)",
            "timezone": "UTC",
            "enabled": True,
            "next_fire": "2026-03-02T09:00:00Z",
        }
    ]


# ---------------------------------------------------------------------------- control route
def test_control_route_errors() -> None:
    recorder = Recorder(fail_first=1)
    control = schedule_control(LocalScheduler([("ExpiryNotifyFunction", DAILY)], recorder))
    run = f"/schedules/{DAILY.name}/run"
    status, body = control("POST", "/schedules/nope/run", b"")
    assert (status, body["error"]["code"]) == (404, "schedule_not_found")
    assert DAILY.name in body["error"]["message"]
    status, body = control("POST", run, b'{"now": "yesterday"}')
    assert (status, body["error"]["code"]) == (400, "invalid_now")
    assert control("POST", run, b'{"now": 5}')[0] == 400
    assert control("POST", run, b"{oops")[0] == 400
    assert control("POST", run, b"[]")[0] == 400
    assert control("GET", run, b"")[0] == 405
    assert control("DELETE", "/schedules", b"")[0] == 405
    assert control("GET", "/elsewhere", b"")[0] == 404
    status, body = control("POST", run, b"")
    assert (status, body["error"]["code"]) == (502, "function_error")
    assert "boom" in body["error"]["message"]
    assert recorder.calls  # the failing call reached the function; a bad request never did
    assert len(recorder.calls) == 1


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder(result={"due_lines": 2, "queued": 2})
    scheduler = LocalScheduler([("ExpiryNotifyFunction", DAILY)], recorder)
    api = LocalHttpApi([], _unused, local_control=schedule_control(scheduler))
    api.start()
    try:
        yield api.url, recorder
    finally:
        api.stop()


def test_control_route_on_the_gateway(gateway: tuple[str, Recorder]) -> None:
    url, _ = gateway
    answer = requests.post(f"{url}/_local/schedules/{DAILY.name}/run", json={"now": "2026-03-01T17:00:00+08:00"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["schedule"] == DAILY.name
    assert body["function"] == "ExpiryNotifyFunction"
    assert body["scheduled_time"] == "2026-03-01T09:00:00Z"
    assert body["result"] == {"due_lines": 2, "queued": 2, "as_of": "2026-03-01T09:00:00Z"}
    listing = requests.get(f"{url}/_local/schedules").json()["schedules"]
    assert [(s["name"], s["function"]) for s in listing] == [(DAILY.name, "ExpiryNotifyFunction")]
    missing = requests.post(f"{url}/_local/schedules/nope/run")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "schedule_not_found"
    assert requests.get(f"{url}/plans").status_code == 404  # API routes are untouched


def test_make_remind_prints_the_report(
    gateway: tuple[str, Recorder], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = gateway
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"LocalControlUrl": f"{url}/_local"}))
    assert remind.main(["--outputs", str(outputs), "--now", "2026-03-01T09:00:00Z"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out) == {"due_lines": 2, "queued": 2, "as_of": "2026-03-01T09:00:00Z"}
    assert f"ran {DAILY.name}" in printed.err
    assert remind.main(["--outputs", str(outputs), "--now", "not a time"]) == 1
    assert "invalid_now" in capsys.readouterr().err
    assert remind.main(["--outputs", str(outputs), "--schedule", "nope"]) == 1


def test_make_remind_without_a_running_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert remind.main(["--outputs", str(tmp_path / "outputs.json")]) == 2
    assert "not running" in capsys.readouterr().err
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"LocalControlUrl": f"http://127.0.0.1:{free_port()}/_local"}))
    assert remind.main(["--outputs", str(stale)]) == 2
    assert "not running" in capsys.readouterr().err
