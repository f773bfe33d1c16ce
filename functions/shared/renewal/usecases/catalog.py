"""Browsing plans."""

from __future__ import annotations

from renewal.domain.errors import NotFound
from renewal.domain.plans import Plan, filter_plans
from renewal.ports import PlanCatalog


def list_plans(catalog: PlanCatalog, *, region: str | None, country: str | None) -> list[Plan]:
    plans = catalog.plans_in_region(region.upper()) if region else catalog.all_plans()
    return filter_plans(plans, region=region, country=country)


def get_plan(catalog: PlanCatalog, plan_id: str) -> Plan:
    plan = catalog.get(plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id!r}", code="plan_not_found")
    return plan
