"""What a customer reads: plans, and their own orders and receipts (anyone else's are 404)."""

from __future__ import annotations

from renewal.domain.errors import NotFound
from renewal.domain.orders import Order
from renewal.domain.plans import Plan
from renewal.ports import OrderStore, PlanCatalog
from renewal.usecases import catalog, orders


class CustomerReads:
    def __init__(self, plans: PlanCatalog, order_store: OrderStore) -> None:
        self._plans, self._orders = plans, order_store

    def plans(self, *, region: str | None, country: str | None) -> list[Plan]:
        return catalog.list_plans(self._plans, region=region, country=country)

    def plan(self, plan_id: str) -> Plan:
        return catalog.get_plan(self._plans, plan_id)

    def orders(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        return orders.list_orders(self._orders, account_id, limit, cursor)

    def order(self, account_id: str, order_id: str) -> Order:
        return orders.own_order(self._orders, account_id, order_id)

    def receipt(self, account_id: str, order_id: str) -> Order:
        """The order behind a receipt: only once it has one (paid and activated)."""
        order = orders.own_order(self._orders, account_id, order_id)
        if not order.receipt_no:
            raise NotFound("this order has no receipt yet: it is not paid and activated", code="receipt_not_found")
        return order
