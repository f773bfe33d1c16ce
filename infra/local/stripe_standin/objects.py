"""Stripe objects built from the official samples (spec/stripe_openapi_fixtures3.json).

Every builder starts from ``spec.fixture(<resource>)`` and overwrites what the request
decides; sample-only noise (huge shipping amounts, a Source object on the charge,
"message" custom texts...) is reset to what a plain hosted-page payment session has.
SDK fields the sample lacks are added as ``null`` when the 16.1.0 object schema allows it.
"""

from __future__ import annotations

import secrets
import string
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import spec

_ALNUM = string.ascii_letters + string.digits
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
    "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip

# SDK fields that Stripe leaves out unless asked for (expand/include) or for Connect.
_NOT_DEFAULT = {
    "checkout.session": {"line_items"},
    "event": {"account", "context"},
    "charge": set(),
    "refund": set(),
    "item": set(),
}


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def session_id() -> str:
    return "cs_test_a1" + "".join(secrets.choice(_ALNUM) for _ in range(56))


def now() -> int:
    return int(time.time())


def format_amount(amount: int, currency: str) -> str:
    cur = currency.lower()
    if cur in ZERO_DECIMAL:
        return f"{amount} {cur.upper()}"
    return f"{Decimal(amount) / 100:.2f} {cur.upper()}"


def _allows_null(prop_schema: dict[str, Any]) -> bool:
    if prop_schema.get("type") == "null":
        return True
    return any(b.get("type") == "null" for b in prop_schema.get("anyOf", []))


def complete_fields(obj: dict[str, Any], resource: str) -> dict[str, Any]:
    """Add SDK fields the sample lacks, as null, where the object schema allows null."""
    schema = spec.object_schema(resource)
    props: dict[str, Any] = schema.get("properties", {})
    for name in schema.get("x-sdk-fields", []):
        if name in obj or name in _NOT_DEFAULT.get(resource, set()):
            continue
        if _allows_null(props.get(name, {})):
            obj[name] = None
    return obj


# --------------------------------------------------------------------------- line items


def line_item_amount(price_data: dict[str, Any], quantity: int) -> tuple[int, str]:
    """(amount for the line, unit_amount_decimal text)."""
    if "unit_amount" in price_data:
        unit = int(price_data["unit_amount"])
        return unit * quantity, str(unit)
    dec = Decimal(str(price_data["unit_amount_decimal"]))
    total = int((dec * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return total, str(dec)


def build_line_item(params: dict[str, Any], created: int) -> dict[str, Any]:
    """A ``item`` object from one ``line_items[n]`` entry that uses ``price_data``."""
    pd: dict[str, Any] = params["price_data"]
    quantity = int(params["quantity"])
    amount, unit_dec = line_item_amount(pd, quantity)
    currency = str(pd["currency"]).lower()
    product_data: dict[str, Any] = pd.get("product_data") or {}
    product_id = str(pd.get("product") or new_id("prod_", 14))
    name = str(product_data.get("name") or product_id)

    item = spec.fixture("item")
    price: dict[str, Any] = item["price"]
    recurring = pd.get("recurring")
    price.update(
        {
            "active": False,  # ad-hoc prices made from price_data are inactive
            "created": created,
            "currency": currency,
            "custom_unit_amount": None,
            "id": new_id("price_"),
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": product_id,
            "recurring": (
                {
                    "interval": recurring["interval"],
                    "interval_count": int(recurring.get("interval_count", 1)),
                    "meter": None,
                    "trial_period_days": None,
                    "usage_type": "licensed",
                }
                if recurring
                else None
            ),
            "tax_behavior": pd.get("tax_behavior", "unspecified"),
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": int(pd["unit_amount"]) if "unit_amount" in pd else None,
            "unit_amount_decimal": unit_dec,
        }
    )
    item.update(
        {
            "adjustable_quantity": None,
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": currency,
            "description": name,
            "discounts": [],
            "id": new_id("li_"),
            "metadata": dict(params.get("metadata") or {}),
            "price": price,
            "quantity": quantity,
            "taxes": [],
        }
    )
    return complete_fields(item, "item")


# --------------------------------------------------------------------------- session


def build_session(
    params: dict[str, Any],
    *,
    sid: str,
    created: int,
    expires_at: int,
    url: str,
    currency: str | None,
    amount_total: int | None,
    payment_method_types: list[str],
) -> dict[str, Any]:
    s = spec.fixture("checkout.session")
    ui_mode = params.get("ui_mode", "hosted_page")
    recovery = (params.get("after_expiration") or {}).get("recovery")
    s.update(
        {
            "adaptive_pricing": {"enabled": bool((params.get("adaptive_pricing") or {}).get("enabled", False))},
            "after_expiration": (
                {
                    "recovery": {
                        "allow_promotion_codes": bool(recovery.get("allow_promotion_codes", False)),
                        "enabled": bool(recovery.get("enabled", False)),
                        "expires_at": None,
                        "url": None,
                    }
                }
                if recovery
                else None
            ),
            "allow_promotion_codes": params.get("allow_promotion_codes"),
            "allowed_payment_method_types": params.get("allowed_payment_method_types"),
            "amount_subtotal": amount_total,
            "amount_total": amount_total,
            "automatic_tax": {
                "enabled": bool((params.get("automatic_tax") or {}).get("enabled", False)),
                "liability": None,
                "provider": None,
                "status": None,
            },
            "billing_address_collection": params.get("billing_address_collection"),
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "client_secret": None,
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": created,
            "currency": currency,
            "currency_conversion": None,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": params.get("customer"),
            "customer_account": params.get("customer_account"),
            "customer_creation": params.get("customer_creation", "if_required"),
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "discounts": [],
            "excluded_payment_method_types": params.get("excluded_payment_method_types"),
            "expires_at": expires_at,
            "id": sid,
            "integration_identifier": params.get("integration_identifier"),
            "invoice": None,
            "invoice_creation": {
                "enabled": bool((params.get("invoice_creation") or {}).get("enabled", False)),
                "invoice_data": {
                    "account_tax_ids": None,
                    "custom_fields": None,
                    "description": None,
                    "footer": None,
                    "issuer": None,
                    "metadata": {},
                    "rendering_options": None,
                },
            },
            "livemode": False,
            "locale": params.get("locale"),
            "managed_payments": None,
            "metadata": dict(params.get("metadata") or {}),
            "mode": params.get("mode", "payment"),
            "object": "checkout.session",
            "origin_context": params.get("origin_context"),
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": params.get("payment_method_collection", "if_required"),
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": payment_method_types,
            "payment_status": "unpaid",
            "permissions": None,
            "phone_number_collection": {
                "enabled": bool((params.get("phone_number_collection") or {}).get("enabled", False))
            },
            "recovered_from": None,
            "redirect_on_completion": params.get("redirect_on_completion"),
            "return_url": params.get("return_url"),
            "saved_payment_method_options": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": params.get("submit_type"),
            "subscription": None,
            "success_url": params.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": ui_mode,
            "url": url if ui_mode == "hosted_page" else None,
            "wallet_options": None,
        }
    )
    return complete_fields(s, "checkout.session")


def customer_details(email: str | None) -> dict[str, Any]:
    return {
        "address": {
            "city": None,
            "country": "US",
            "line1": None,
            "line2": None,
            "postal_code": "94103",
            "state": None,
        },
        "business_name": None,
        "email": email or "jenny.rosen@example.com",
        "individual_name": None,
        "name": "Jenny Rosen",
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


# --------------------------------------------------------------------------- payment


def build_payment_intent(
    *, pid: str, amount: int, currency: str, created: int, metadata: dict[str, str],
    description: str | None, receipt_email: str | None, payment_method: str,
    payment_method_types: list[str],
) -> dict[str, Any]:  # fmt: skip
    pi = spec.fixture("payment_intent")
    pi.update(
        {
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "client_secret": f"{pid}_secret_{new_id('', 25)}",
            "created": created,
            "currency": currency,
            "description": description,
            "id": pid,
            "last_payment_error": None,
            "latest_charge": None,
            "metadata": dict(metadata),
            "next_action": None,
            "payment_method": payment_method,
            "payment_method_configuration_details": None,
            "payment_method_types": list(payment_method_types),
            "processing": None,
            "receipt_email": receipt_email,
            "shipping": None,
            "status": "requires_payment_method",
            "transfer_data": None,
        }
    )
    return pi


def build_charge(
    *, cid: str, amount: int, currency: str, created: int, payment_intent: str,
    payment_method: str, email: str | None, metadata: dict[str, str], description: str | None,
) -> dict[str, Any]:  # fmt: skip
    ch = spec.fixture("charge")
    pmd: dict[str, Any] = ch["payment_method_details"]
    card: dict[str, Any] = pmd["card"]
    card["amount_authorized"] = amount
    card["overcapture"] = {"maximum_amount_capturable": amount, "status": "unavailable"}
    card["wallet"] = None
    ch.update(
        {
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "balance_transaction": new_id("txn_"),
            "billing_details": {
                "address": {
                    "city": None,
                    "country": "US",
                    "line1": None,
                    "line2": None,
                    "postal_code": "94103",
                    "state": None,
                },
                "email": email,
                "name": "Jenny Rosen",
                "phone": None,
                "tax_id": None,
            },
            "calculated_statement_descriptor": "STRIPE STAND-IN",
            "captured": True,
            "created": created,
            "currency": currency,
            "description": description,
            "id": cid,
            "metadata": dict(metadata),
            "outcome": {
                "advice_code": None,
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "risk_score": 32,
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
            "paid": True,
            "payment_intent": payment_intent,
            "payment_method": payment_method,
            "payment_method_details": pmd,
            "receipt_email": email,
            "receipt_url": None,
            "refunded": False,
            "refunds": {"data": [], "has_more": False, "object": "list", "url": f"/v1/charges/{cid}/refunds"},
            "shipping": None,
            "source": None,
            "status": "succeeded",
            "transfer_data": None,
        }
    )
    return ch


def mark_charge_pending(ch: dict[str, Any]) -> None:
    ch.update({"status": "pending", "paid": False, "amount_captured": 0, "captured": False})
    ch["outcome"].update({"seller_message": "The payment is pending.", "network_status": "approved_by_network"})


def mark_charge_succeeded(ch: dict[str, Any]) -> None:
    ch.update({"status": "succeeded", "paid": True, "amount_captured": ch["amount"], "captured": True})
    ch["outcome"].update({"seller_message": "Payment complete.", "type": "authorized"})


def mark_charge_failed(ch: dict[str, Any]) -> None:
    ch.update(
        {
            "status": "failed",
            "paid": False,
            "captured": False,
            "amount_captured": 0,
            "failure_code": "insufficient_funds",
            "failure_message": "The customer's account has insufficient funds to cover this payment.",
        }
    )
    ch["outcome"].update(
        {
            "network_status": "declined_by_network",
            "reason": "insufficient_funds",
            "seller_message": "The bank returned the decline code `insufficient_funds`.",
            "type": "issuer_declined",
        }
    )


def build_refund(
    *, rid: str, amount: int, charge: dict[str, Any], created: int,
    metadata: dict[str, str], reason: str | None,
) -> dict[str, Any]:  # fmt: skip
    r = spec.fixture("refund")
    r.update(
        {
            "amount": amount,
            "balance_transaction": new_id("txn_"),
            "charge": charge["id"],
            "created": created,
            "currency": charge["currency"],
            "customer": charge.get("customer"),
            "id": rid,
            "metadata": dict(metadata),
            "payment_intent": charge.get("payment_intent"),
            "payment_method": charge.get("payment_method"),
            "reason": reason,
            "status": "succeeded",
        }
    )
    return complete_fields(r, "refund")


def build_event(
    *, etype: str, obj: dict[str, Any], created: int, request_id: str | None,
    idempotency_key: str | None, pending_webhooks: int,
) -> dict[str, Any]:  # fmt: skip
    ev = spec.event_envelope_sample()
    ev.update(
        {
            "api_version": spec.api_version(),
            "created": created,
            "data": {"object": obj},
            "id": new_id("evt_"),
            "livemode": False,
            "object": "event",
            "pending_webhooks": pending_webhooks,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": etype,
        }
    )
    return ev
