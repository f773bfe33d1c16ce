"""Carrier usage: a signed batch of records, each drawn from the line's bundles once, and the
low-data alerts that crossing 75 %, 90 % or 100 % raises."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from renewal.domain.lines import Bundle
from renewal.domain.reminders import ReminderKey, ReminderMessage, ReminderPolicy, low_data_alert
from renewal.domain.timeutil import utc_now
from renewal.domain.usage import UsageRecord, draw_usage, parse_usage_batch, verify_usage_signature
from renewal.ports import LineStore, PlanCatalog, ReminderQueue, StaleWrite, UsageLedger

logger = Logger(child=True)
RETRIES = 10
PER_TRANSACTION = 99  # DynamoDB's 100 items per transaction, less the line


@dataclass
class IngestReport:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    unknown_iccids: list[str] = field(default_factory=list)
    uncovered_mb: int = 0
    alerts_queued: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "unknown_iccids": sorted(self.unknown_iccids),
            "uncovered_mb": self.uncovered_mb,
            "alerts_queued": self.alerts_queued,
        }


class UsageIngest:
    def __init__(
        self,
        lines: LineStore,
        ledger: UsageLedger,
        catalog: PlanCatalog,
        alerts: ReminderQueue,
        secret: Callable[[], str],
        policy: ReminderPolicy,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._lines = lines
        self._ledger = ledger
        self._catalog = catalog
        self._alerts = alerts
        self._secret = secret
        self._policy = policy
        self._clock = clock

    def ingest(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """Verify first (nothing is read or written for a bad signature), then validate the whole
        batch, then apply it line by line."""
        now = self._clock()
        verify_usage_signature(payload, signature, self._secret(), now)
        records = parse_usage_batch(payload, now)
        report = IngestReport(received=len(records))
        by_line: dict[str, list[UsageRecord]] = defaultdict(list)
        for record in records:
            by_line[record.iccid].append(record)
        coverage = self._coverage()
        for iccid, line_records in by_line.items():
            self._apply_line(iccid, sorted(line_records, key=lambda r: (r.used_at, r.record_id)), coverage, now, report)
        logger.info("usage batch", extra=report.view())
        return report.view()

    def _coverage(self) -> dict[str, frozenset[str]]:
        """Which countries each region's bundles cover: the union over the region's plans."""
        countries: dict[str, set[str]] = defaultdict(set)
        for plan in self._catalog.all_plans():
            countries[plan.region].update(plan.countries)
        return {region: frozenset(c) for region, c in countries.items()}

    def _apply_line(
        self,
        iccid: str,
        records: Sequence[UsageRecord],
        coverage: dict[str, frozenset[str]],
        now: datetime,
        report: IngestReport,
    ) -> None:
        pending = list(records)
        attempts = 0
        while pending:
            line = self._lines.get(iccid)
            if line is None:
                report.unknown_iccids.append(iccid)  # not ours: reported back, nothing recorded
                return
            seen = self._ledger.recorded([r.record_id for r in pending])
            report.duplicates += sum(1 for r in pending if r.record_id in seen)
            pending = [r for r in pending if r.record_id not in seen]
            chunk = pending[:PER_TRANSACTION]
            if not chunk:
                return
            bundles = line.bundles
            uncovered = 0
            for record in chunk:
                outcome = draw_usage(bundles, coverage, record.country, record.data_mb, record.used_at)
                bundles, uncovered = outcome.bundles, uncovered + outcome.uncovered_mb
            bundles, alerts = self._alerts_for(iccid, line.bundles, bundles)
            if alerts and line.account_id:
                # Queued before the write commits: a crash in between re-sends the batch, and the
                # sender's log keeps the alert to one mail.
                self._alerts.send([ReminderMessage(key, line.account_id, now) for key in alerts])
            try:
                self._ledger.apply(line, bundles, chunk)
            except StaleWrite:
                attempts += 1
                if attempts >= RETRIES:
                    raise RuntimeError(f"usage for {iccid}: the line kept changing") from None
                continue  # nothing was applied: re-read and decide again
            report.applied += len(chunk)
            report.uncovered_mb += uncovered
            report.alerts_queued += len(alerts) if line.account_id else 0
            pending = pending[len(chunk) :]

    def _alerts_for(
        self, iccid: str, before: Sequence[Bundle], after: Sequence[Bundle]
    ) -> tuple[tuple[Bundle, ...], list[ReminderKey]]:
        """The bundles with raised alerts recorded, and the alerts newly raised by this draw."""
        previous = {b.region: b for b in before}
        result: list[Bundle] = []
        alerts: list[ReminderKey] = []
        for bundle in after:
            if previous.get(bundle.region) == bundle:
                result.append(bundle)  # untouched by this batch
                continue
            marked, key = low_data_alert(iccid, bundle, self._policy)
            result.append(marked)
            if key is not None:
                alerts.append(key)
        return tuple(result), alerts
