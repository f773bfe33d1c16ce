"""The spec files the stand-in checks against (copied into ``spec/``; see spec/MANIFEST.json).

Which schema checks which request:

* ``POST /v1/checkout/sessions``: ``sdk16.1.0_checkout_session_create_params.schema.json``
  (stripe-python 16.1.0's SessionCreateParams; rejects unknown params).
* ``POST /v1/checkout/sessions/{id}/expire``: the form-parameter schema of that operation
  in ``spec_subset_checkout_2023-08-16.json`` (Stripe's OpenAPI spec; only ``expand``).
* Everything else (retrieve, line items, refunds create/list): the explicit allow-lists
  below, written from stripe-python 16.1.0's ``*Params`` TypedDicts
  (``stripe/params/_refund_create_params.py`` etc.), because the spec files here do not
  carry those operations.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from ._jsonschema import Draft202012Validator

SPEC_DIR = Path(__file__).resolve().parent / "spec"
CREATE_PARAMS_FILE = "sdk16.1.0_checkout_session_create_params.schema.json"
OBJECTS_FILE = "sdk16.1.0_objects.schema.json"
FIXTURES_FILE = "stripe_openapi_fixtures3.json"
SPEC_SUBSET_FILE = "spec_subset_checkout_2023-08-16.json"
EVENTS_FILE = "webhook_events_synthesized.json"


@cache
def _load(name: str) -> Any:
    with (SPEC_DIR / name).open(encoding="utf-8") as fh:
        return json.load(fh)


def create_params_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _load(CREATE_PARAMS_FILE)
    return schema


def request_options() -> list[str]:
    """Names the SDK treats as request options, never sent as params (x-request-options)."""
    return list(create_params_schema().get("x-request-options", []))


def object_schema(resource: str) -> dict[str, Any]:
    """JSON Schema of ``checkout.session`` / ``event`` / ``charge`` / ``refund`` / ``item``."""
    schema: dict[str, Any] = _load(OBJECTS_FILE)["resources"][resource]
    return schema


def fixture(resource: str) -> dict[str, Any]:
    """A fresh deep copy of Stripe's official sample object for ``resource``."""
    return copy.deepcopy(_load(FIXTURES_FILE)["resources"][resource])


def event_envelope_sample() -> dict[str, Any]:
    """The envelope of the synthesized ``checkout.session.completed`` event (data removed)."""
    ev = copy.deepcopy(_load(EVENTS_FILE)["events"]["checkout.session.completed"])
    ev["data"] = {}
    return dict(ev)


def api_version() -> str:
    return str(_load(EVENTS_FILE)["events"]["checkout.session.completed"]["api_version"])


def expire_params_schema() -> dict[str, Any]:
    op = _load(SPEC_SUBSET_FILE)["request_schemas"]["POST /v1/checkout/sessions/{session}/expire"]
    schema: dict[str, Any] = dict(op["schema"])
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


_EXPAND: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_METADATA: dict[str, Any] = {"anyOf": [{"const": ""}, {"type": "object", "additionalProperties": {"type": "string"}}]}
_RANGE: dict[str, Any] = {
    "anyOf": [
        {"type": "integer"},
        {
            "type": "object",
            "properties": {k: {"type": "integer"} for k in ("gt", "gte", "lt", "lte")},
            "additionalProperties": False,
        },
    ]
}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }
    if required:
        s["required"] = required
    return s


# Allow-lists from stripe-python 16.1.0 params (RefundCreateParams, RefundListParams,
# SessionRetrieveParams, SessionListLineItemsParams).
REFUND_CREATE_PARAMS = _obj(
    {
        "amount": {"type": "integer", "minimum": 1},
        "charge": {"type": "string"},
        "currency": {"type": "string"},
        "customer": {"type": "string"},
        "expand": _EXPAND,
        "instructions_email": {"type": "string"},
        "metadata": _METADATA,
        "origin": {"type": "string", "enum": ["customer_balance"]},
        "payment_intent": {"type": "string"},
        "reason": {"type": "string", "enum": ["duplicate", "fraudulent", "requested_by_customer"]},
        "refund_application_fee": {"type": "boolean"},
        "reverse_transfer": {"type": "boolean"},
    }
)
REFUND_LIST_PARAMS = _obj(
    {
        "charge": {"type": "string"},
        "created": _RANGE,
        "ending_before": {"type": "string"},
        "expand": _EXPAND,
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        "payment_intent": {"type": "string"},
        "starting_after": {"type": "string"},
    }
)
# stripe-python 16.1.0 SessionListParams (checkout.Session.list).
SESSION_LIST_PARAMS = _obj(
    {
        "created": _RANGE,
        "customer": {"type": "string"},
        "ending_before": {"type": "string"},
        "expand": _EXPAND,
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        "payment_intent": {"type": "string"},
        "payment_link": {"type": "string"},
        "starting_after": {"type": "string"},
        "status": {"type": "string", "enum": ["complete", "expired", "open"]},
        "subscription": {"type": "string"},
    }
)
RETRIEVE_PARAMS = _obj({"expand": _EXPAND})
LIST_LINE_ITEMS_PARAMS = _obj(
    {
        "ending_before": {"type": "string"},
        "expand": _EXPAND,
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        "starting_after": {"type": "string"},
    }
)


@cache
def validator_for(name: str) -> Any:
    schemas: dict[str, Any] = {
        "create_session": create_params_schema,
        "expire_session": expire_params_schema,
        "create_refund": lambda: REFUND_CREATE_PARAMS,
        "list_refunds": lambda: REFUND_LIST_PARAMS,
        "list_sessions": lambda: SESSION_LIST_PARAMS,
        "retrieve": lambda: RETRIEVE_PARAMS,
        "list_line_items": lambda: LIST_LINE_ITEMS_PARAMS,
    }
    return Draft202012Validator(schemas[name]())


def schema_for(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = dict(validator_for(name).schema)
    return schema


@cache
def object_validator(resource: str) -> Any:
    return Draft202012Validator(object_schema(resource))
