"""Per-account limits on checkouts and syncs (issue 14): pure rules, no I/O."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from renewal.domain.orders import PENDING, Order

MAX_OPEN_CHECKOUTS = 3  # open (pending, unexpired) online checkouts per account
SYNC_WINDOW = timedelta(minutes=1)
# The success page polls every 4 s (15 a minute); 20 leaves room for a reload or a second tab.
SYNCS_PER_WINDOW = 20


def open_checkouts(orders: Iterable[Order], now: datetime, lifetime: timedelta) -> list[Order]:
    """The account's online orders whose Checkout Session may still be paid, newest first."""
    return [
        o
        for o in orders
        if o.channel == "web" and o.status == PENDING and o.session_id and now < o.created_at + lifetime
    ]


def seconds_until_one_closes(open_orders: Iterable[Order], now: datetime, lifetime: timedelta) -> int:
    """Retry-After for a refused checkout: when the oldest open one expires."""
    oldest = min(o.created_at for o in open_orders)
    return max(1, math.ceil((oldest + lifetime - now).total_seconds()))


def sync_window(now: datetime) -> tuple[datetime, int]:
    """The fixed window `now` falls in (its start) and the seconds until the next one opens."""
    start = now.replace(second=0, microsecond=0)
    return start, max(1, math.ceil((start + SYNC_WINDOW - now).total_seconds()))
