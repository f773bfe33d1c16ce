"""Reconciliation: keeps our books, Stripe and the mobile network in step. A scheduled run

1. reads Stripe's Checkout Sessions completed in the window: an order still `pending` although
   its session is complete (the webhook was lost) is fulfilled as the webhook would have; a
   session naming no order of ours is flagged;
2. re-queues `paid` orders that activation has not reached after a while (a crash, a message in
   the dead-letter queue after a carrier outage); activation is idempotent, so this is safe;
3. re-queues reversals (refunds, voids, lost disputes on their way to the carrier) still pending
   after a while, and flags those pending for long (their messages wait in the dead-letter queue);
4. compares, for lines whose bundles changed in the window (a reversal reaching the carrier counts
   as a change), our live bundles with the network's: a bundle the network does not have, one it
   has and we do not, an expiry that differs by more than the tolerance, or data that differs
   (ours below the network's at all, or above it by more than the tolerance for usage not yet
   reported) is flagged for a person (never "mended" by guessing which side is right). Lines with
   a reversal still pending are left for the next run.

It reports what it did, and how many eSIM lines wait in the pool (the PoolLinesAvailable metric and
its low-watermark alarm)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from renewal.domain.issues import Issue
from renewal.domain.lines import line_balance
from renewal.domain.orders import PENDING
from renewal.domain.timeutil import to_iso
from renewal.ports import (
    ActivationQueue,
    AwaitingOrders,
    Carrier,
    CarrierUnavailable,
    ChangedLines,
    Fulfiller,
    IssueLog,
    LineStore,
    OrderStore,
    PaymentProvider,
    PaymentProviderError,
    PendingReversals,
    PoolGauge,
)

logger = Logger(child=True)


@dataclass
class ReconciliationReport:
    as_of: str
    orders_waiting: int = 0
    requeued: list[str] = field(default_factory=list)
    fulfilled: list[str] = field(default_factory=list)
    sessions_checked: int = 0
    lines_checked: int = 0
    flagged: list[dict[str, Any]] = field(default_factory=list)
    new_issues: int = 0
    carrier_unreachable: int = 0
    stripe_unreachable: bool = False
    reversals_requeued: list[str] = field(default_factory=list)
    pool_available: int | None = None


@dataclass(frozen=True)
class ReconciliationSettings:
    stuck_after: timedelta = timedelta(minutes=10)
    window: timedelta = timedelta(days=1)
    expiry_tolerance: timedelta = timedelta(minutes=15)
    data_tolerance_mb: int = 50
    reversal_flag_after: timedelta = timedelta(hours=1)


class Reconciliation:
    def __init__(
        self,
        orders: OrderStore,
        awaiting: AwaitingOrders,
        lines: LineStore,
        changed: ChangedLines,
        payments: PaymentProvider,
        fulfilment: Fulfiller,
        queue: ActivationQueue,
        carrier: Carrier,
        issues: IssueLog,
        settings: ReconciliationSettings,
        clock: Callable[[], datetime],
        reversals: PendingReversals | None = None,
        pool: PoolGauge | None = None,
    ) -> None:
        self._pool = pool
        self._orders, self._awaiting, self._lines, self._changed = orders, awaiting, lines, changed
        self._payments, self._fulfilment, self._queue = payments, fulfilment, queue
        self._carrier, self._issues, self._settings, self._clock = carrier, issues, settings, clock
        self._reversals = reversals

    def run(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or self._clock()
        report = ReconciliationReport(as_of=to_iso(now))
        self._stripe(now, report)
        self._stuck(now, report)
        waiting = self._pending_reversals(now, report)
        self._network(now, report, waiting)
        if self._pool is not None:
            report.pool_available = self._pool.pool_available()
        logger.info("reconciliation", extra={k: v for k, v in asdict(report).items() if k != "flagged"})
        return asdict(report)

    def _flag(self, issue: Issue, now: datetime, report: ReconciliationReport) -> None:
        report.flagged.append({"issue_id": issue.issue_id, **asdict(issue)})
        if self._issues.flag(issue, now):
            report.new_issues += 1
            logger.warning("reconciliation issue", extra=asdict(issue))

    def _stripe(self, now: datetime, report: ReconciliationReport) -> None:
        try:
            sessions = self._payments.completed_sessions(now - self._settings.window)
        except PaymentProviderError as error:
            report.stripe_unreachable = True
            logger.warning("stripe unreachable during reconciliation", extra={"error": str(error)})
            return
        for session in sessions:
            report.sessions_checked += 1
            order = self._orders.get(session.order_id) if session.order_id else None
            if order is None:
                detail = f"session {session.session_id} completed but names no order of ours"
                self._flag(Issue("session_without_order", "", "*", detail, session.order_id), now, report)
                continue
            if order.status == PENDING and session.payment_status in ("paid", "no_payment_required"):
                fulfilled = self._fulfilment.fulfil(order.order_id, session.session_id)
                report.fulfilled.append(order.order_id)
                logger.info("fulfilled a lost webhook", extra={"order_id": order.order_id, "status": fulfilled.status})

    def _stuck(self, now: datetime, report: ReconciliationReport) -> None:
        stuck = self._awaiting.awaiting_activation(now - self._settings.stuck_after)
        report.orders_waiting = len(stuck)
        for order_id in stuck:
            if order_id in report.fulfilled:
                continue  # fulfilling it just now queued it already
            self._queue.enqueue(order_id)
            report.requeued.append(order_id)

    def _pending_reversals(self, now: datetime, report: ReconciliationReport) -> set[str]:
        """Re-queues reversals pending past `stuck_after` (a lost send, a crashed worker) and flags
        those pending past `reversal_flag_after`; returns the lines any pending reversal is for."""
        if self._reversals is None:
            return set()
        pending = self._reversals.pending(now + timedelta(seconds=1))  # one read of the partition
        waiting = {r.iccid for r in pending}
        for reversal in (r for r in pending if r.created_at < now - self._settings.stuck_after):
            self._queue.enqueue_reversal(reversal.reversal_id)
            report.reversals_requeued.append(reversal.reversal_id)
            if now - reversal.created_at >= self._settings.reversal_flag_after:
                detail = (
                    f"reversal {reversal.reversal_id} of order {reversal.order_id} ({reversal.data_mb} MB, "
                    f"{reversal.validity_s} s) still pending since {to_iso(reversal.created_at)}: see the DLQ"
                )
                self._flag(
                    Issue("reversal_pending", reversal.iccid, reversal.region, detail, reversal.order_id), now, report
                )
        return waiting

    def _network(self, now: datetime, report: ReconciliationReport, waiting: set[str]) -> None:
        tolerance = self._settings.expiry_tolerance
        for iccid in self._changed.changed_since(now - self._settings.window, now):
            line = self._lines.get(iccid)
            if line is None or iccid in waiting:
                continue  # a reversal on its way to the carrier: compared once it has arrived
            report.lines_checked += 1
            ours = {b.region: b for b in line_balance(line.bundles, now).bundles}
            try:
                network = self._carrier.line(iccid)
            except CarrierUnavailable:
                report.carrier_unreachable += 1
                continue
            theirs = {b.region: b for b in (network.bundles if network else ()) if b.expires_at > now}
            for region, bundle in ours.items():
                other = theirs.get(region)
                if other is None:
                    detail = (
                        f"we hold {bundle.remaining_data_mb} MB until {to_iso(bundle.expires_at)}; the network has none"
                    )
                    self._flag(Issue("network_missing_bundle", iccid, region, detail), now, report)
                elif abs(other.expires_at - bundle.expires_at) > tolerance:
                    detail = f"ours expires {to_iso(bundle.expires_at)}, the network's {to_iso(other.expires_at)}"
                    self._flag(Issue("expiry_mismatch", iccid, region, detail), now, report)
                elif (
                    bundle.remaining_data_mb < other.data_mb
                    or bundle.remaining_data_mb - other.data_mb > self._settings.data_tolerance_mb
                ):
                    detail = f"we hold {bundle.remaining_data_mb} MB, the network {other.data_mb} MB"
                    self._flag(Issue("data_mismatch", iccid, region, detail), now, report)
            for region, other in theirs.items():
                if region not in ours:
                    detail = f"the network has {other.data_mb} MB until {to_iso(other.expires_at)}; we hold none"
                    self._flag(Issue("network_extra_bundle", iccid, region, detail), now, report)
