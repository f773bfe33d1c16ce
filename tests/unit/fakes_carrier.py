"""The carrier as our port sees it: idempotent by order id, applying DESIGN.md's activation rule
on its own clock, with switches for outages and refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from renewal.ports import BundleProvision, CarrierRefused, CarrierUnavailable, NetworkBundle, NetworkLine


class FakeCarrier:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.applied: dict[str, BundleProvision] = {}
        self.bundles: dict[tuple[str, str], NetworkBundle] = {}  # (iccid, region) -> the network's bundle
        self.requests: list[str] = []  # every add request's order id, repeats included
        self.down = False
        self.refuse: dict[str, tuple[str, str]] = {}  # iccid -> (code, reason)

    def add_bundle(self, request: BundleProvision) -> None:
        self.requests.append(request.order_id)
        if self.down:
            raise CarrierUnavailable("the carrier is down")
        if request.iccid in self.refuse:
            raise CarrierRefused(*self.refuse[request.iccid])
        if request.order_id in self.applied:
            return
        self.applied[request.order_id] = request
        now, key = self.clock(), (request.iccid, request.region)
        current = self.bundles.get(key)
        if current is None or current.expires_at <= now:
            current = NetworkBundle(request.region, 0, now)
        self.bundles[key] = NetworkBundle(
            request.region,
            current.data_mb + request.data_mb,
            max(now, current.expires_at) + timedelta(days=request.validity_days),
        )

    def forget(self, iccid: str, region: str) -> None:
        self.bundles.pop((iccid, region), None)

    def line(self, iccid: str) -> NetworkLine | None:
        if self.down:
            raise CarrierUnavailable("the carrier is down")
        orders = frozenset(r.order_id for r in self.applied.values() if r.iccid == iccid)
        if not orders:
            return None
        bundles = tuple(b for (line, _), b in self.bundles.items() if line == iccid)
        return NetworkLine(iccid, bundles, orders)
