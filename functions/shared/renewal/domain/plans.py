"""Plans: what a customer can buy. The catalog is data (infra/catalog); prices come only from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from renewal.domain.countries import CURRENCY_EXPONENTS, ISO_COUNTRIES
from renewal.domain.errors import InvalidInput

PLAN_KINDS: dict[str, tuple[int, int]] = {
    # kind -> allowed validity_days range, so a "daily" plan cannot be given 30 days by a typo.
    "daily": (1, 1),
    "weekly": (7, 7),
    "monthly": (28, 31),
}


@dataclass(frozen=True)
class Plan:
    plan_id: str
    name: str
    kind: str
    region: str
    countries: tuple[str, ...]
    data_mb: int
    validity_days: int
    prices: Mapping[str, int]

    def covers(self, country: str) -> bool:
        return country.upper() in self.countries

    def price_in(self, currency: str) -> int:
        """The price in minor units; a currency the plan is not sold in is the client's mistake."""
        try:
            return self.prices[currency.upper()]
        except KeyError:
            sold_in = ", ".join(sorted(self.prices))
            raise InvalidInput(
                f"plan {self.plan_id} is not sold in {currency}; it is sold in {sold_in}",
                code="unsupported_currency",
            ) from None

    def view(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "name": self.name,
            "kind": self.kind,
            "region": self.region,
            "countries": list(self.countries),
            "data_mb": self.data_mb,
            "validity_days": self.validity_days,
            "prices": dict(self.prices),
        }


def plan_from_dict(raw: Mapping[str, Any]) -> Plan:
    """Builds a Plan from catalog data, rejecting anything a customer could be charged wrongly for."""
    problems: list[str] = []
    plan_id = str(raw.get("plan_id", ""))
    if not plan_id or not plan_id.replace("-", "").replace("_", "").isalnum():
        problems.append("plan_id must be letters, digits, '-' or '_'")
    kind = raw.get("kind")
    validity = raw.get("validity_days")
    if kind not in PLAN_KINDS:
        problems.append(f"kind must be one of {sorted(PLAN_KINDS)}")
    elif not isinstance(validity, int) or not PLAN_KINDS[kind][0] <= validity <= PLAN_KINDS[kind][1]:
        problems.append(f"validity_days {validity!r} does not fit kind {kind}")
    countries = raw.get("countries") or []
    unknown = [c for c in countries if c not in ISO_COUNTRIES]
    if not countries or unknown:
        problems.append(f"countries must be ISO 3166-1 alpha-2 codes (unknown: {unknown})")
    data_mb = raw.get("data_mb")
    if not isinstance(data_mb, int) or isinstance(data_mb, bool) or data_mb <= 0:
        problems.append("data_mb must be a positive integer")
    prices = raw.get("prices") or {}
    if not prices:
        problems.append("prices must name at least one currency")
    for currency, amount in prices.items():
        if currency not in CURRENCY_EXPONENTS:
            problems.append(f"currency {currency!r} is not one we price in")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            problems.append(f"price {currency} must be a positive integer of minor units")
    if not raw.get("name") or not raw.get("region"):
        problems.append("name and region are required")
    if problems:
        raise InvalidInput(f"plan {plan_id or '?'}: " + "; ".join(problems), code="invalid_plan")
    return Plan(
        plan_id=plan_id,
        name=str(raw["name"]),
        kind=str(kind),
        region=str(raw["region"]),
        countries=tuple(sorted(set(countries))),
        data_mb=int(data_mb),  # type: ignore[arg-type]
        validity_days=int(validity),  # type: ignore[arg-type]
        prices={c: int(a) for c, a in prices.items()},
    )


def filter_plans(plans: Iterable[Plan], *, region: str | None = None, country: str | None = None) -> list[Plan]:
    """Plans for a region and/or a country, cheapest data first within a region, stable order."""
    selected = [
        p for p in plans if (region is None or p.region == region.upper()) and (country is None or p.covers(country))
    ]
    return sorted(selected, key=lambda p: (p.region, p.validity_days, p.data_mb, p.plan_id))
