"""Reconciliation issues: differences between our books, Stripe and the network that no code
mends, kept for a person."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """A difference reconciliation cannot mend: for a person. `issue_id` is stable across runs."""

    kind: str  # network_missing_bundle | network_extra_bundle | expiry_mismatch | data_mismatch
    #            | session_without_order | reversal_pending
    iccid: str
    region: str
    detail: str
    order_id: str | None = None

    @property
    def issue_id(self) -> str:
        return f"{self.kind}#{self.iccid or self.order_id}#{self.region}"
