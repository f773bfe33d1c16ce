import json
from pathlib import Path

import pytest

from renewal.domain.countries import ISO_COUNTRIES
from renewal.domain.errors import InvalidInput
from renewal.domain.plans import filter_plans, plan_from_dict

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog" / "plans.json"

GOOD = {
    "plan_id": "eu-weekly-5gb",
    "name": "Europe weekly 5 GB",
    "kind": "weekly",
    "region": "EU",
    "countries": ["FR", "DE"],
    "data_mb": 5120,
    "validity_days": 7,
    "prices": {"USD": 1299, "EUR": 1199},
}


def test_catalog_file_meets_the_product_rules() -> None:
    plans = [plan_from_dict(raw) for raw in json.loads(CATALOG.read_text())["plans"]]
    assert len(plans) >= 12
    assert {p.kind for p in plans} == {"daily", "weekly", "monthly"}
    assert len({p.region for p in plans}) >= 4
    for plan in plans:
        assert {"USD", "EUR", "CNY", "HKD"} <= set(plan.prices), plan.plan_id
        assert set(plan.countries) <= ISO_COUNTRIES
    assert len({p.plan_id for p in plans}) == len(plans)


def test_country_codes_are_the_249_of_iso_3166() -> None:
    assert len(ISO_COUNTRIES) == 249
    assert {"FR", "HK", "CN", "US", "SS", "XK"} - ISO_COUNTRIES == {"XK"}  # XK is not assigned by ISO


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"countries": ["FR", "ZZ"]}, "ZZ"),
        ({"prices": {"USD": 12.99}}, "minor units"),
        ({"prices": {"XXX": 100}}, "XXX"),
        ({"kind": "daily"}, "does not fit"),
        ({"data_mb": 0}, "data_mb"),
        ({"plan_id": "has space"}, "plan_id"),
    ],
)
def test_bad_plans_are_refused(change: dict, fragment: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        plan_from_dict({**GOOD, **change})
    assert fragment in raised.value.message


def test_price_in_an_unsold_currency_is_a_clear_error() -> None:
    plan = plan_from_dict(GOOD)
    assert plan.price_in("eur") == 1199
    with pytest.raises(InvalidInput) as raised:
        plan.price_in("CNY")
    assert raised.value.code == "unsupported_currency"


def test_filters_by_region_and_country() -> None:
    eu = plan_from_dict(GOOD)
    asia = plan_from_dict({**GOOD, "plan_id": "asia", "region": "ASIA", "countries": ["JP", "HK"]})
    assert filter_plans([eu, asia], region="asia") == [asia]
    assert filter_plans([eu, asia], country="hk") == [asia]
    assert filter_plans([eu, asia], region="EU", country="HK") == []
    assert filter_plans([asia, eu]) == [asia, eu]  # sorted by region
