"""What a customer reads: plans, and their own orders and receipts (anyone else's are 404)."""

from __future__ import annotations

from renewal.domain.errors import NotFound
from renewal.domain.orders import Order
from renewal.domain.plans import Plan
from renewal.domain.receipts import Seller
from renewal.ports import OrderStore, PlanCatalog, StoreLookup
from renewal.usecases import catalog, orders


class CustomerReads:
    def __init__(self, plans: PlanCatalog, order_store: OrderStore, stores: StoreLookup, online: Seller) -> None:
        """`online`: who sells online (receipts name them); a store sale names the store instead."""
        self._plans, self._orders, self._stores, self._online = plans, order_store, stores, online

    def plans(self, *, region: str | None, country: str | None) -> list[Plan]:
        return catalog.list_plans(self._plans, region=region, country=country)

    def plan(self, plan_id: str) -> Plan:
        return catalog.get_plan(self._plans, plan_id)

    def orders(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        return orders.list_orders(self._orders, account_id, limit, cursor)

    def order(self, account_id: str, order_id: str) -> Order:
        return orders.own_order(self._orders, account_id, order_id)

    def receipt(self, account_id: str, order_id: str) -> tuple[Order, Seller, str | None]:
        """The order behind a receipt (only once it has one: paid and activated), who sold it and
        the staff member's name: online we are the seller; a store sale names the store."""
        order = orders.own_order(self._orders, account_id, order_id)
        if not order.receipt_no:
            raise NotFound("this order has no receipt yet: it is not paid and activated", code="receipt_not_found")
        store = self._stores.store(order.store_id) if order.store_id else None
        if store is None:
            return order, self._online, None
        staff_name = self._stores.staff_name(order.staff_id) if order.staff_id else None
        return order, store.seller(), staff_name
