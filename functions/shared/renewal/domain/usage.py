"""DESIGN.md's usage rule: a record names the country where data was used; it draws on the
live bundle covering that country that expires first, then the next; no bundle goes below zero.
What no bundle covers is reported back (roaming outside the plans), never charged to a bundle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from renewal.domain.lines import Bundle


@dataclass(frozen=True)
class UsageOutcome:
    bundles: tuple[Bundle, ...]
    drawn_mb: int
    uncovered_mb: int


def draw_usage(
    bundles: Sequence[Bundle],
    countries_by_region: Mapping[str, frozenset[str]],
    country: str,
    used_mb: int,
    used_at: datetime,
) -> UsageOutcome:
    if used_mb < 0:
        raise ValueError("usage cannot be negative")
    covering = sorted(
        (
            b
            for b in bundles
            if b.is_live(used_at) and country.upper() in countries_by_region.get(b.region, frozenset())
        ),
        key=lambda b: (b.expires_at, b.region),
    )
    left = used_mb
    changed: dict[str, Bundle] = {}
    for bundle in covering:
        if left == 0:
            break
        take = min(bundle.remaining_data_mb, left)
        if take:
            changed[bundle.region] = replace(bundle, remaining_data_mb=bundle.remaining_data_mb - take)
            left -= take
    result = tuple(changed.get(b.region, b) for b in bundles)
    return UsageOutcome(bundles=result, drawn_mb=used_mb - left, uncovered_mb=left)
