"""What EventBridge Scheduler does for the template's function schedules, locally: moto stores
schedules but never fires them, so this evaluates their expressions (`cron(...)`, `rate(...)`,
`at(...)`) in their time zone and invokes the function at each fire time with the schedule's
`Input`, its context attributes (`<aws.scheduler.scheduled-time>`...) filled in as the service
fills them. It also runs a schedule on demand (`make remind`) through a local-only control
route on the gateway, `/_local/schedules`."""

from __future__ import annotations

import calendar
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from infra.local.lambda_runtime import InvocationError
from infra.local.template import ACCOUNT_ID, ScheduleSpec

log = logging.getLogger("scheduler")

# ---------------------------------------------------------------------------- expressions
MONTH_NAMES = {
    "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
    "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
}  # fmt: skip
WEEKDAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
RATE_UNITS = {
    "minute": timedelta(minutes=1),
    "minutes": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "hours": timedelta(hours=1),
    "day": timedelta(days=1),
    "days": timedelta(days=1),
}
FIRST_YEAR, LAST_YEAR = 1970, 2199  # the service's range for the year field


@dataclass(frozen=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int] | None  # None: `?`
    last_day_of_month: bool  # `L` in day-of-month
    months: tuple[int, ...]
    weekdays: frozenset[int] | None  # AWS numbering, 1 = SUN .. 7 = SAT; None: `?`
    years: tuple[int, ...]

    def matches_day(self, day: date) -> bool:
        # Exactly one of day-of-month and day-of-week is `?`: the other one decides.
        if self.last_day_of_month:
            return day.day == calendar.monthrange(day.year, day.month)[1]
        if self.days is not None:
            return day.day in self.days
        assert self.weekdays is not None
        return aws_weekday(day) in self.weekdays


@dataclass(frozen=True)
class Rate:
    interval: timedelta


@dataclass(frozen=True)
class At:
    local_time: datetime  # naive, in the schedule's time zone


Expression = Cron | Rate | At


def aws_weekday(day: date) -> int:
    """1 = Sunday .. 7 = Saturday, as cron day-of-week counts."""
    return (day.weekday() + 1) % 7 + 1


def parse_expression(expression: str) -> Expression:
    """Raises ValueError naming what is wrong, so a bad template fails at start, not at 09:00."""
    found = re.fullmatch(r"\s*(cron|rate|at)\((.*)\)\s*", expression)
    if not found:
        raise ValueError(f"{expression!r} is not a schedule expression: expected cron(...), rate(...) or at(...)")
    kind, body = found.groups()
    try:
        if kind == "cron":
            return _parse_cron(body)
        if kind == "rate":
            return _parse_rate(body)
        return _parse_at(body)
    except ValueError as error:
        raise ValueError(f"{expression!r}: {error}") from None


def _parse_rate(body: str) -> Rate:
    found = re.fullmatch(r"\s*(\d+)\s+([a-z]+)\s*", body)
    if not found or found.group(2) not in RATE_UNITS:
        raise ValueError("expected rate(<positive integer> minute|minutes|hour|hours|day|days)")
    value = int(found.group(1))
    if value < 1:
        raise ValueError("the rate must be a positive integer")
    return Rate(value * RATE_UNITS[found.group(2)])


def _parse_at(body: str) -> At:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", body.strip()):
        raise ValueError("expected at(yyyy-mm-ddThh:mm:ss)")
    return At(datetime.fromisoformat(body.strip()))


def _parse_cron(body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ValueError(
            f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
        )
    minute, hour, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    last_day = day_of_month == "L"
    days = None if day_of_month == "?" or last_day else _field(day_of_month, "day-of-month", 1, 31)
    weekdays = None if day_of_week == "?" else _field(day_of_week, "day-of-week", 1, 7, WEEKDAY_NAMES)
    return Cron(
        minutes=tuple(sorted(_field(minute, "minutes", 0, 59))),
        hours=tuple(sorted(_field(hour, "hours", 0, 23))),
        days=days,
        last_day_of_month=last_day,
        months=tuple(sorted(_field(month, "month", 1, 12, MONTH_NAMES))),
        weekdays=weekdays,
        years=tuple(sorted(_field(year, "year", FIRST_YEAR, LAST_YEAR))),
    )


def _field(text: str, name: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"{name} field: the step in {part!r} must be a positive integer")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _value(first, name, low, high, names), _value(last, name, low, high, names)
            if start > end:
                raise ValueError(f"{name} field: the range {base!r} runs backwards")
        else:
            start = _value(base, name, low, high, names)
            # `a/n` means from a to the end of the field in steps of n.
            end = high if slash else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(token: str, name: str, low: int, high: int, names: dict[str, int] | None) -> int:
    if token.isdigit():
        number = int(token)
        if not low <= number <= high:
            raise ValueError(f"{name} field: {number} is outside {low}-{high}")
        return number
    if names and token.upper() in names:
        return names[token.upper()]
    if token == "?":
        raise ValueError(f"{name} field: '?' is only allowed alone, in day-of-month or day-of-week")
    if re.fullmatch(r"\d*[LW]|LW|L-\d+|\w+#\d+", token):
        raise ValueError(
            f"{name} field: {token!r} is not supported by the local scheduler "
            "(of L, W and #, only a lone L in day-of-month is)"
        )
    raise ValueError(f"{name} field: {token!r} is not a valid value")


def zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{timezone!r} is not an IANA time zone") from None


def next_fire(expression: str | Expression, timezone: str, after: datetime) -> datetime | None:
    """The first fire time strictly after `after` (aware), in UTC; None when there is none.
    A rate counts from `after`, so feeding back the last fire time keeps its cadence."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    parsed = parse_expression(expression) if isinstance(expression, str) else expression
    local_zone = zone(timezone)
    after = after.astimezone(UTC)
    if isinstance(parsed, Rate):
        return after + parsed.interval
    if isinstance(parsed, At):
        when = parsed.local_time.replace(tzinfo=local_zone).astimezone(UTC)
        return when if when > after else None
    return _next_cron(parsed, local_zone, after)


def _next_cron(cron: Cron, local_zone: ZoneInfo, after: datetime) -> datetime | None:
    start = after.astimezone(local_zone).date()
    for year in (y for y in cron.years if y >= start.year):
        for month in cron.months:
            if (year, month) < (start.year, start.month):
                continue
            first_day = start.day if (year, month) == (start.year, start.month) else 1
            for day_number in range(first_day, calendar.monthrange(year, month)[1] + 1):
                day = date(year, month, day_number)
                if not cron.matches_day(day):
                    continue
                for hour in cron.hours:
                    for minute in cron.minutes:
                        # A wall time skipped by a DST change comes out an hour later (zoneinfo's fold=0).
                        candidate = datetime(year, month, day_number, hour, minute, tzinfo=local_zone).astimezone(UTC)
                        if candidate > after:
                            return candidate
    return None


# ---------------------------------------------------------------------------- events
def iso_z(moment: datetime) -> str:
    """The service's timestamp format: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduler_input(
    template: str | None, *, scheduled_time: datetime, schedule_arn: str, execution_id: str, attempt: int = 1
) -> Any:
    """The payload the target receives: `Input` with the context attributes substituted as
    text (so a placeholder inside quotes stays a string), then parsed as JSON."""
    if not template:
        return {}
    if not isinstance(template, str):
        raise ValueError("Input must be a string of JSON")
    text = (
        template.replace("<aws.scheduler.scheduled-time>", iso_z(scheduled_time))
        .replace("<aws.scheduler.execution-id>", execution_id)
        .replace("<aws.scheduler.attempt-number>", str(attempt))
        .replace("<aws.scheduler.schedule-arn>", schedule_arn)
    )
    return json.loads(text)


# ---------------------------------------------------------------------------- the scheduler
Invoker = Callable[[str, Any], Any]
# Behind by more than this (a suspended laptop), the missed runs are skipped, not replayed in a burst.
CATCH_UP_LIMIT = timedelta(minutes=1)


class UnknownSchedule(LookupError):
    pass


@dataclass(frozen=True)
class ScheduledFunction:
    function: str  # the function's logical id
    spec: ScheduleSpec
    expression: Expression
    arn: str


@dataclass(frozen=True)
class Run:
    schedule: str
    function: str
    scheduled_time: datetime
    execution_id: str
    result: Any


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LocalScheduler:
    def __init__(
        self,
        schedules: Iterable[tuple[str, ScheduleSpec]],
        invoke: Invoker,
        *,
        region: str = "us-east-1",
        account_id: str = ACCOUNT_ID,
        clock: Callable[[], datetime] = _utc_now,
        poll_seconds: float = 1.0,
    ) -> None:
        """Raises ValueError for an expression, time zone or Input the service would refuse."""
        self._targets: dict[str, ScheduledFunction] = {}
        for function, spec in schedules:
            try:
                zone(spec.timezone)
                target = ScheduledFunction(
                    function,
                    spec,
                    parse_expression(spec.expression),
                    f"arn:aws:scheduler:{region}:{account_id}:schedule/default/{spec.name}",
                )
                scheduler_input(spec.input, scheduled_time=_utc_now(), schedule_arn=target.arn, execution_id="x")
            except json.JSONDecodeError as error:
                raise ValueError(f"schedule {spec.name}: its Input is not JSON ({error})") from None
            except ValueError as error:
                raise ValueError(f"schedule {spec.name}: {error}") from None
            if spec.name in self._targets:
                raise ValueError(f"two schedules are named {spec.name}")
            self._targets[spec.name] = target
        self._invoke = invoke
        self._clock = clock
        self._poll = poll_seconds
        self._due: dict[str, datetime | None] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    # -------------------------------------------------------------- timing
    def arm(self, now: datetime) -> None:
        """Sets each enabled schedule's first fire time after `now`."""
        with self._lock:
            self._due = {
                name: next_fire(t.expression, t.spec.timezone, now)
                for name, t in self._targets.items()
                if t.spec.enabled
            }

    def take_due(self, now: datetime) -> list[tuple[ScheduledFunction, datetime]]:
        """The runs due at `now` (one per schedule), each schedule moved on to its next time."""
        fired: list[tuple[ScheduledFunction, datetime]] = []
        with self._lock:
            for name, when in self._due.items():
                if when is None or when > now:
                    continue
                target = self._targets[name]
                fired.append((target, when))
                following = next_fire(target.expression, target.spec.timezone, when)
                if following is not None and following <= now - CATCH_UP_LIMIT:
                    log.warning("schedule %s: skipping the runs missed since %s", name, iso_z(when))
                    following = next_fire(target.expression, target.spec.timezone, now)
                self._due[name] = following
        return fired

    def next_wake(self, now: datetime) -> float:
        with self._lock:
            waits = [(when - now).total_seconds() for when in self._due.values() if when is not None]
        return max(0.0, min([self._poll, *waits]))

    def start(self) -> None:
        self.arm(self._clock())
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                for target, when in self.take_due(self._clock()):
                    # The service invokes asynchronously: a long run does not hold up the next one.
                    threading.Thread(
                        target=self._fire, args=(target, when), name=f"schedule-{target.spec.name}", daemon=True
                    ).start()
                wait = self.next_wake(self._clock())
            except Exception:  # a scheduler that dies quietly would look like a day with nothing due
                log.exception("the local scheduler failed; retrying")
                wait = self._poll
            self._stopping.wait(wait)

    def _fire(self, target: ScheduledFunction, when: datetime) -> None:
        try:
            run = self._call(target, when)
        except InvocationError as error:
            log.error("schedule %s: %s failed: %s\n%s", target.spec.name, target.function, error, error.trace)
        except Exception:  # keep scheduling, as the service would; the log says why
            log.exception("schedule %s: invoking %s failed", target.spec.name, target.function)
        else:
            report = json.dumps(run.result, default=str)[:500]
            log.info(
                "schedule %s ran %s as of %s: %s", target.spec.name, target.function, iso_z(run.scheduled_time), report
            )

    # -------------------------------------------------------------- on demand
    def run(self, schedule_name: str, as_of: datetime | None = None) -> Run:
        """Invokes now, synchronously, as if scheduled at `as_of` (default: now). Raises
        UnknownSchedule, or InvocationError on a function error."""
        target = self._targets.get(schedule_name)
        if target is None:
            raise UnknownSchedule(schedule_name)
        when = as_of if as_of is not None else self._clock()
        if when.tzinfo is None:
            raise ValueError("`as_of` must be timezone-aware")
        return self._call(target, when.astimezone(UTC).replace(microsecond=0))

    def run_now(self, schedule_name: str, as_of: datetime | None = None) -> Any:
        return self.run(schedule_name, as_of).result

    def _call(self, target: ScheduledFunction, when: datetime) -> Run:
        execution_id = str(uuid.uuid4())
        event = scheduler_input(
            target.spec.input, scheduled_time=when, schedule_arn=target.arn, execution_id=execution_id
        )
        result = self._invoke(target.function, event)
        return Run(target.spec.name, target.function, when, execution_id, result)

    def describe(self) -> list[dict[str, Any]]:
        now = self._clock()
        with self._lock:
            armed = dict(self._due)
        running = self._thread.is_alive()
        listing = []
        for name, target in self._targets.items():
            upcoming: datetime | None = None
            if running:
                upcoming = armed.get(name)
            elif target.spec.enabled:
                upcoming = next_fire(target.expression, target.spec.timezone, now)
            listing.append(
                {
                    "name": name,
                    "function": target.function,
                    "expression": target.spec.expression,
                    "timezone": target.spec.timezone,
                    "enabled": target.spec.enabled,
                    "next_fire": iso_z(upcoming) if upcoming is not None else None,
                }
            )
        return listing


# ---------------------------------------------------------------------------- control route
def schedule_control(scheduler: LocalScheduler) -> Callable[[str, str, bytes], tuple[int, Any]]:
    """Answers the gateway's `/_local/...` requests (given the path after `/_local`):
    `GET /schedules` and `POST /schedules/{name}/run` with an optional `{"now": ISO 8601}`."""

    def handle(method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["schedules"]:
            if method != "GET":
                return _error(HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "use GET")
            return HTTPStatus.OK, {"schedules": scheduler.describe()}
        if len(parts) == 3 and parts[0] == "schedules" and parts[2] == "run":
            if method != "POST":
                return _error(HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "use POST")
            return _run(scheduler, parts[1], body)
        return _error(HTTPStatus.NOT_FOUND, "route_not_found", f"no local control route {method} /_local{path}")

    return handle


def _run(scheduler: LocalScheduler, name: str, body: bytes) -> tuple[int, Any]:
    try:
        document = json.loads(body) if body.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(HTTPStatus.BAD_REQUEST, "malformed_json", "the body is not JSON")
    if not isinstance(document, dict):
        return _error(HTTPStatus.BAD_REQUEST, "malformed_json", 'the body must be an object, e.g. {"now": "..."}')
    as_of = None
    if document.get("now") is not None:
        try:
            as_of = parse_instant(document["now"])
        except ValueError as error:
            return _error(HTTPStatus.BAD_REQUEST, "invalid_now", str(error))
    try:
        run = scheduler.run(name, as_of)
    except UnknownSchedule:
        known = ", ".join(item["name"] for item in scheduler.describe()) or "none"
        return _error(HTTPStatus.NOT_FOUND, "schedule_not_found", f"no schedule {name!r} (known: {known})")
    except InvocationError as error:
        log.error("schedule %s: function error: %s\n%s", name, error, error.trace)
        return _error(HTTPStatus.BAD_GATEWAY, "function_error", str(error))
    return HTTPStatus.OK, {
        "schedule": run.schedule,
        "function": run.function,
        "scheduled_time": iso_z(run.scheduled_time),
        "execution_id": run.execution_id,
        "result": run.result,
    }


def parse_instant(value: Any) -> datetime:
    """ISO 8601; without an offset it is taken as UTC, as every time in this system is."""
    if not isinstance(value, str):
        raise ValueError("`now` must be an ISO 8601 string, e.g. 2026-03-01T09:00:00Z")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"`now` is not an ISO 8601 time: {value!r} (e.g. 2026-03-01T09:00:00Z)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"error": {"code": code, "message": message}}
