"""Lines (eSIM cards) and their bundles: status, balance and the activation rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from renewal.domain.errors import Conflict
from renewal.domain.plans import Plan
from renewal.domain.timeutil import to_iso

LAPSE_AFTER = timedelta(days=180)


def luhn_check_digit(digits: str) -> str:
    """The Luhn digit that makes `digits + d` pass the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # these are doubled once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_iccid(iccid: str) -> bool:
    """19 or 20 digits whose last is the Luhn check digit (ITU-T E.118)."""
    return (
        isinstance(iccid, str)
        and iccid.isascii()
        and iccid.isdigit()
        and len(iccid) in (19, 20)
        and luhn_check_digit(iccid[:-1]) == iccid[-1]
    )


@dataclass(frozen=True)
class Contribution:
    """What one order added to one generation of a bundle: `data_mb` and `validity_s` when it
    was credited, `remaining_mb` of that data still unused. Usage draws on a bundle's
    contributions oldest first, so a refund can take back only its own order's unused data."""

    order_id: str
    data_mb: int
    remaining_mb: int
    validity_s: int


@dataclass(frozen=True)
class Bundle:
    """Data for one region on a line. `data_mb_at_top_up` is the size at the last top-up
    (`topped_up_at`, by plan `plan_id`), which low-data alerts measure use against;
    `alerted_percent` is the highest low-data alert already raised since that top-up.
    `generation` counts the bundle's restarts (a refund touches only the generation its order
    fed); `contributions` say which order's data is still unused. Data no contribution accounts
    for (bundles written before contributions were recorded) is the oldest and is drawn first."""

    region: str
    remaining_data_mb: int
    expires_at: datetime
    started_at: datetime
    data_mb_at_top_up: int
    topped_up_at: datetime | None = None  # None on bundles written before top-ups were recorded
    plan_id: str | None = None
    alerted_percent: int = 0
    generation: int = 0
    contributions: tuple[Contribution, ...] = ()

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at

    @property
    def validity_began_at(self) -> datetime:
        """When the bundle's current validity began: its last top-up (reminder thresholds before
        that moment are never due, so a plan just bought gets no "1 day left" mail)."""
        return self.topped_up_at or self.started_at

    @property
    def used_percent(self) -> float:
        if self.data_mb_at_top_up <= 0:
            return 0.0
        return max(0, self.data_mb_at_top_up - self.remaining_data_mb) * 100 / self.data_mb_at_top_up

    @property
    def unattributed_mb(self) -> int:
        return max(0, self.remaining_data_mb - sum(c.remaining_mb for c in self.contributions))

    def contribution(self, order_id: str) -> Contribution | None:
        return next((c for c in self.contributions if c.order_id == order_id), None)

    def draw(self, data_mb: int) -> Bundle:
        """`data_mb` used (at most what is left): unattributed data first, then each order's in
        the order they were credited."""
        take = min(max(0, data_mb), self.remaining_data_mb)
        left = take - min(take, self.unattributed_mb)
        contributions = []
        for c in self.contributions:
            drawn = min(left, c.remaining_mb)
            left -= drawn
            contributions.append(replace(c, remaining_mb=c.remaining_mb - drawn) if drawn else c)
        return replace(self, remaining_data_mb=self.remaining_data_mb - take, contributions=tuple(contributions))

    def view(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "remaining_data_mb": self.remaining_data_mb,
            "expires_at": to_iso(self.expires_at),
        }


@dataclass(frozen=True)
class LineBalance:
    status: str
    remaining_data_mb: int
    expires_at: datetime | None
    bundles: tuple[Bundle, ...]


def line_balance(bundles: Sequence[Bundle], now: datetime) -> LineBalance:
    """What a customer sees: only unexpired bundles count; status from the latest expiry."""
    live = tuple(sorted((b for b in bundles if b.is_live(now)), key=lambda b: b.region))
    if live:
        status = "active"
    elif not bundles:
        status = "none"
    elif now >= max(b.expires_at for b in bundles) + LAPSE_AFTER:
        status = "lapsed"
    else:
        status = "expired"
    return LineBalance(
        status=status,
        remaining_data_mb=sum(b.remaining_data_mb for b in live),
        expires_at=max((b.expires_at for b in live), default=None),
        bundles=live,
    )


def require_renewable(bundles: Sequence[Bundle], now: datetime) -> None:
    """A lapsed line can no longer be renewed (Conflict `line_lapsed`)."""
    if line_balance(bundles, now).status == "lapsed":
        raise Conflict(
            "this line lapsed more than 180 days after its last plan and cannot be renewed", code="line_lapsed"
        )


def apply_plan(bundles: Iterable[Bundle], plan: Plan, now: datetime) -> tuple[Bundle, ...]:
    """The whole plan credited with no order named (seeded lines, tests)."""
    return credit(bundles, plan, now, order_id=None, data_mb=plan.data_mb, validity_s=plan.validity_days * DAY_S)


DAY_S = 86_400


def credit(
    bundles: Iterable[Bundle],
    plan: Plan,
    now: datetime,
    *,
    order_id: str | None,
    data_mb: int,
    validity_s: int,
) -> tuple[Bundle, ...]:
    """The activation rule (docs/domain.md): the plan's region bundle restarts from zero (a new
    generation) when absent or expired - expired data never comes back - then gains `data_mb`,
    and its expiry moves to `max(now, expires_at) + validity_s`. `data_mb` and `validity_s` are
    what is credited: the plan's, less any share refunded before activation. The order's
    contribution is recorded so that a later refund takes back only what this order added.
    A lapsed line can no longer be renewed."""
    current = list(bundles)
    require_renewable(current, now)
    validity = timedelta(seconds=validity_s)
    contribution = (Contribution(order_id, data_mb, data_mb, validity_s),) if order_id else ()
    others = [b for b in current if b.region != plan.region]
    existing = next((b for b in current if b.region == plan.region), None)
    if existing is None or not existing.is_live(now):
        renewed = Bundle(
            region=plan.region,
            remaining_data_mb=data_mb,
            expires_at=now + validity,
            started_at=now,
            data_mb_at_top_up=data_mb,
            topped_up_at=now,
            plan_id=plan.plan_id,
            generation=(existing.generation + 1) if existing else 1,
            contributions=contribution,
        )
    else:
        remaining = existing.remaining_data_mb + data_mb
        renewed = replace(
            existing,
            remaining_data_mb=remaining,
            expires_at=max(now, existing.expires_at) + validity,
            data_mb_at_top_up=remaining,
            topped_up_at=now,
            plan_id=plan.plan_id,
            alerted_percent=0,
            contributions=existing.contributions + contribution,
        )
    return tuple(sorted([*others, renewed], key=lambda b: b.region))
