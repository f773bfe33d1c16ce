"""Partner stores: receipt numbers, change, the void window and the end-of-day report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from renewal.domain.errors import Conflict, InvalidInput
from renewal.domain.orders import VOIDED, Order
from renewal.domain.receipts import Seller

VOID_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    address: str
    currency: str
    time_zone: str
    tax_id: str = ""

    def seller(self) -> Seller:
        """A store's receipts name the store as the seller."""
        return Seller(self.name, self.address, self.tax_id)

    def receipt_number(self, sequence: int) -> str:
        """Sequential per store: `HKG-T1-000123`."""
        return f"{self.store_id}-{sequence:06d}"

    def local_day(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants a local calendar day of this store spans."""
        zone = ZoneInfo(self.time_zone)
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def change_due(price: int, cash_received: int) -> int:
    if cash_received < price:
        raise InvalidInput(f"cash received {cash_received} is less than the price {price}", code="insufficient_cash")
    return cash_received - price


def require_store_currency(store: Store, currency: str) -> None:
    if currency.upper() != store.currency:
        raise InvalidInput(f"this store takes {store.currency}, not {currency}", code="wrong_currency")


def require_voidable(order: Order, now: datetime) -> None:
    if order.status == VOIDED:
        raise Conflict("this sale is already void", code="already_void")
    if now - order.created_at > VOID_WINDOW:
        raise Conflict("a sale can be voided only within 15 minutes", code="void_window_passed")


def daily_report(
    store: Store, day: date, orders: Iterable[Order], staff_names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Totals per plan, per currency and per staff member (with their display name, when known);
    voided sales listed apart."""
    per_plan: dict[str, dict[str, int]] = defaultdict(lambda: {"count": 0, "amount": 0})
    per_currency: dict[str, int] = defaultdict(int)
    per_staff: dict[str, dict[str, int]] = defaultdict(lambda: {"count": 0, "amount": 0})
    voided = []
    for order in orders:
        if order.status == VOIDED:
            voided.append(order.receipt_no)
            continue
        kept = order.amount - order.refunded_amount
        per_plan[order.plan.plan_id]["count"] += 1
        per_plan[order.plan.plan_id]["amount"] += kept
        per_currency[order.currency] += kept
        per_staff[order.staff_id or "?"]["count"] += 1
        per_staff[order.staff_id or "?"]["amount"] += kept
    return {
        "store_id": store.store_id,
        "date": day.isoformat(),
        "time_zone": store.time_zone,
        "per_plan": [{"plan_id": k, **v} for k, v in sorted(per_plan.items())],
        "per_currency": [{"currency": k, "amount": v} for k, v in sorted(per_currency.items())],
        "per_staff": [
            {"staff_id": k, "staff_name": (staff_names or {}).get(k), **v} for k, v in sorted(per_staff.items())
        ],
        "voided": sorted(filter(None, voided)),
    }
