"""A customer's own orders and receipts; anyone else's are 404."""

from __future__ import annotations

from renewal.domain.errors import NotFound
from renewal.domain.orders import Order
from renewal.ports import OrderStore


def own_order(orders: OrderStore, account_id: str, order_id: str) -> Order:
    order = orders.get(order_id)
    if order is None or order.account_id != account_id:
        raise NotFound("no such order", code="order_not_found")
    return order


def list_orders(orders: OrderStore, account_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
    return orders.list_for_account(account_id, max(1, min(limit, 100)), cursor)
