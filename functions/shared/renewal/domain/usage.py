"""The usage rule (docs/domain.md): a record names the country where data was used; it draws on
the live bundle covering that country that expires first, then the next; no bundle goes below
zero. Within a bundle, usage draws on the orders that fed it oldest first (Bundle.draw).
What no bundle covers is reported back (roaming outside the plans), never charged to a bundle."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from renewal.domain.countries import ISO_COUNTRIES
from renewal.domain.errors import DomainError, InvalidInput
from renewal.domain.lines import Bundle, is_valid_iccid
from renewal.domain.signatures import TOLERANCE_S, signature_header, verify_signature
from renewal.domain.timeutil import from_iso

SIGNATURE_TOLERANCE_S = TOLERANCE_S


@dataclass(frozen=True)
class UsageRecord:
    """One record from the carrier: `data_mb` used in `country` on line `iccid` at `used_at`."""

    record_id: str
    iccid: str
    country: str
    data_mb: int
    used_at: datetime


def usage_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Usage-Signature` header for `payload` (Stripe's scheme)."""
    return signature_header(payload, secret, timestamp)


def verify_usage_signature(
    payload: bytes, header: str | None, secret: str, now: datetime, tolerance_s: int = SIGNATURE_TOLERANCE_S
) -> None:
    """Raises Unauthorized unless `header` signs `payload` (see renewal.domain.signatures)."""
    verify_signature(payload, header, secret, now, tolerance_s, name="Usage-Signature")


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
            changed[bundle.region] = bundle.draw(take)
            left -= take
    result = tuple(changed.get(b.region, b) for b in bundles)
    return UsageOutcome(bundles=result, drawn_mb=used_mb - left, uncovered_mb=left)


MAX_RECORDS_PER_BATCH = 1000
# One record's usage: far above any real session (10 TB), far below DynamoDB's number range.
MAX_RECORD_MB = 10_000_000


def parse_usage_batch(payload: bytes, now: datetime) -> list[UsageRecord]:
    """`{"records": [{"record_id", "iccid", "country", "data_mb", "used_at"}, ...]}` as records.
    Any bad record refuses the whole batch (422), so a batch is applied whole or not at all; the
    same record twice in one batch counts once; a record from the future (beyond a 5-minute clock
    skew) is refused."""
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise DomainError("the body is not valid JSON", code="malformed_json") from error
    raw = document.get("records") if isinstance(document, dict) else None
    if not isinstance(raw, list) or not raw:
        raise InvalidInput('the body must be {"records": [...]} with at least one record')
    if len(raw) > MAX_RECORDS_PER_BATCH:
        raise InvalidInput(f"at most {MAX_RECORDS_PER_BATCH} records per batch")
    records: dict[str, UsageRecord] = {}
    for position, item in enumerate(raw):
        where = f"records[{position}]"
        if not isinstance(item, dict) or set(item) != {"record_id", "iccid", "country", "data_mb", "used_at"}:
            raise InvalidInput(f"{where}: needs exactly record_id, iccid, country, data_mb, used_at")
        record_id, iccid, country = item["record_id"], item["iccid"], item["country"]
        data_mb, used_at_text = item["data_mb"], item["used_at"]
        if not isinstance(record_id, str) or not 1 <= len(record_id) <= 128:
            raise InvalidInput(f"{where}.record_id: a string of 1 to 128 characters")
        if not isinstance(iccid, str) or not is_valid_iccid(iccid):
            raise InvalidInput(f"{where}.iccid: not a valid ICCID")
        if not isinstance(country, str) or country.upper() not in ISO_COUNTRIES:
            raise InvalidInput(f"{where}.country: not an ISO 3166 alpha-2 code")
        if isinstance(data_mb, bool) or not isinstance(data_mb, int) or not 0 <= data_mb <= MAX_RECORD_MB:
            raise InvalidInput(f"{where}.data_mb: a whole number of MB, 0 to {MAX_RECORD_MB}")
        try:
            used_at = from_iso(str(used_at_text))
        except ValueError as error:
            raise InvalidInput(f"{where}.used_at: an ISO 8601 time with a zone") from error
        if (used_at - now).total_seconds() > SIGNATURE_TOLERANCE_S:
            raise InvalidInput(f"{where}.used_at: in the future")
        record = UsageRecord(record_id, iccid, country.upper(), data_mb, used_at)
        if records.setdefault(record_id, record) != record:
            raise InvalidInput(f"{where}: record_id {record_id} appears twice with different contents")
    return list(records.values())
