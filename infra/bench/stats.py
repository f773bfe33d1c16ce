"""Pure helpers of the benchmark: percentiles, summaries and ratios (unit-tested)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) with linear interpolation between closest ranks (NumPy's
    default), so p50 of an even count is the mean of the middle two."""
    if not values:
        raise ValueError("no values")
    if not 0 <= p <= 100:
        raise ValueError("p must be within 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def summary(values: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, p99, mean and max of a sample (milliseconds in, milliseconds out)."""
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "mean": sum(values) / len(values),
        "max": max(values),
    }


def ratio(value: float, floor: float) -> float | None:
    """How many floors the value is; None when there is no floor to divide by."""
    return None if floor <= 0 else value / floor


def share(part: float, whole: float) -> float | None:
    return None if whole <= 0 else part / whole


def billed_gb_seconds(durations_ms: Iterable[float], memory_mb: int) -> float:
    """Lambda bills each invocation's duration rounded up to the next millisecond, times the
    function's memory in GB."""
    return sum(math.ceil(d) for d in durations_ms) / 1000 * memory_mb / 1024


def rounded(value: Any, digits: int = 2) -> Any:
    """Floats rounded for the report, recursively through dicts and lists."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value
