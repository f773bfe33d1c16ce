"""The carrier as our port sees it: the local simulator's network rules (infra/local/carrier_sim,
the same code `make run` serves over HTTP) called in-process, with switches for outages and
refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from infra.local.carrier_sim import CarrierSimulator
from infra.local.carrier_sim import NetworkBundle as SimBundle
from renewal.domain.timeutil import from_iso
from renewal.ports import (
    BundleProvision,
    CarrierAdded,
    CarrierRefused,
    CarrierUnavailable,
    NetworkBundle,
    NetworkLine,
    ReversalRequest,
)


class FakeCarrier:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.sim = CarrierSimulator(
            "127.0.0.1", 0, "unused", clock=clock, strict_iccids=False
        )  # never started: no HTTP
        self.applied: dict[str, BundleProvision] = {}
        self.requests: list[str] = []  # every add request's order id, repeats included
        self.reversal_requests: list[str] = []
        self.down = False
        self.fail_next = 0  # the next n calls fail as unavailable
        self.refuse: dict[str, tuple[str, str]] = {}  # iccid -> (code, reason)

    def _gate(self) -> None:
        if self.down:
            raise CarrierUnavailable("the carrier is down")
        if self.fail_next:
            self.fail_next -= 1
            raise CarrierUnavailable("the carrier failed")

    def add_bundle(self, request: BundleProvision) -> CarrierAdded:
        self.requests.append(request.order_id)
        self._gate()
        if request.iccid in self.refuse:
            raise CarrierRefused(*self.refuse[request.iccid])
        body = {"region": request.region, "data_mb": request.data_mb, "validity_seconds": request.validity_s}
        status, answer = self.sim.add_bundle(request.iccid, request.order_id, body)
        if status not in (200, 201):
            raise CarrierRefused(answer["error"]["code"], answer["error"]["message"])
        self.applied.setdefault(request.order_id, request)
        return CarrierAdded(answer["added_data_mb"], answer["added_validity_seconds"])

    def reverse(self, request: ReversalRequest) -> CarrierAdded:
        self.reversal_requests.append(request.reversal_id)
        self._gate()
        body = {
            "order_id": request.order_id,
            "region": request.region,
            "data_mb": request.data_mb,
            "validity_seconds": request.validity_s,
        }
        status, answer = self.sim.reverse(request.iccid, request.reversal_id, body)
        if status not in (200, 201):
            raise CarrierRefused(answer["error"]["code"], answer["error"]["message"])
        return CarrierAdded(answer["taken_data_mb"], answer["taken_validity_seconds"])

    def use(self, iccid: str, region: str, data_mb: int) -> None:
        """The customer used data on the network (oldest order's first, as our books draw)."""
        bundle = self.sim.lines.get(iccid, {}).get(region)
        if bundle is not None:
            bundle.draw(data_mb)

    def forget(self, iccid: str, region: str) -> None:
        self.sim.forget(iccid, region)

    def bundle(self, iccid: str, region: str) -> SimBundle | None:
        return self.sim.lines.get(iccid, {}).get(region)

    def line(self, iccid: str) -> NetworkLine | None:
        self._gate()
        status, view = self.sim.read_line(iccid)
        if status == 404:
            return None
        bundles = tuple(
            NetworkBundle(str(b["region"]), int(b["data_mb"]), from_iso(str(b["expires_at"]))) for b in view["bundles"]
        )
        return NetworkLine(iccid, bundles, frozenset(str(o) for o in view["orders"]))
