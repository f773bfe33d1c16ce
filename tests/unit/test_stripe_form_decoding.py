"""Stripe's bracketed form encoding -> nested JSON, typed by the 16.1.0 params schema."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from stripe._encode import _api_encode

from infra.local.stripe_standin import spec
from infra.local.stripe_standin.formcodec import ParamError, decode_form, decode_text, split_key, validate_params

CREATE = spec.create_params_schema()


def sdk_encode(params: dict[str, Any]) -> str:
    """Exactly what stripe-python 16.1.0 puts on the wire."""
    return urlencode(list(_api_encode(params)))


def test_split_key() -> None:
    assert split_key("a") == ["a"]
    assert split_key("a[b][0][c]") == ["a", "b", "0", "c"]
    assert split_key("expand[]") == ["expand", ""]
    with pytest.raises(ParamError):
        split_key("a[b")
    with pytest.raises(ParamError):
        split_key("[x]")


def test_round_trip_of_sdk_encoding_with_types_from_schema() -> None:
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 2,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1250,
                    "product_data": {"name": "Plan A", "metadata": {"plan": "a"}},
                },
            },
            {"quantity": 1, "price_data": {"currency": "eur", "unit_amount_decimal": "99.5", "product": "prod_1"}},
        ],
        "metadata": {"renewal_id": "ren_1", "0": "zero-key stays a map"},
        "allow_promotion_codes": True,
        "phone_number_collection": {"enabled": False},
        "expires_at": 1_900_000_000,
        "allowed_payment_method_types": ["card", "sepa_debit"],
        "expand": ["line_items"],
    }
    text = sdk_encode(params)
    assert "line_items[0][price_data][unit_amount]=1250" in text.replace("%5B", "[").replace("%5D", "]")
    assert decode_text(text, CREATE) == params
    validate_params(decode_text(text, CREATE), spec.validator_for("create_session"))


def test_many_list_items_keep_numeric_order() -> None:
    pairs = [(f"expand[{i}]", f"f{i}") for i in (10, 2, 0, 1, 3, 4, 5, 6, 7, 8, 9)]
    assert decode_form(pairs, CREATE)["expand"] == [f"f{i}" for i in range(11)]


def test_empty_brackets_append() -> None:
    assert decode_form([("expand[]", "payment_intent"), ("expand[]", "line_items")], CREATE) == {
        "expand": ["payment_intent", "line_items"]
    }


def test_without_schema_values_stay_text() -> None:
    assert decode_text("a[b][0][c]=x&a[b][0][d]=1&n=2") == {"a": {"b": [{"c": "x", "d": "1"}]}, "n": "2"}


def test_unparseable_integer_stays_text_and_the_validator_names_it() -> None:
    params = decode_form([("expires_at", "soon")], CREATE)
    assert params == {"expires_at": "soon"}
    with pytest.raises(ParamError) as exc:
        validate_params(params, spec.validator_for("create_session"))
    assert (exc.value.param, exc.value.code) == ("expires_at", "parameter_invalid_integer")


def test_empty_values() -> None:
    # metadata= unsets everything, metadata[k]= unsets one key
    assert decode_form([("metadata", "")], CREATE) == {"metadata": {}}
    assert decode_form([("metadata[a]", ""), ("metadata[b]", "x")], CREATE) == {"metadata": {"b": "x"}}
    # a field whose type allows "" keeps it
    assert decode_form([("branding_settings[background_color]", "")], CREATE) == {
        "branding_settings": {"background_color": ""}
    }
    with pytest.raises(ParamError) as exc:
        decode_form([("success_url", "")], CREATE)
    assert (exc.value.param, exc.value.code) == ("success_url", "parameter_invalid_empty")


@pytest.mark.parametrize(
    ("pairs", "param", "code"),
    [
        ([("nope", "1")], "nope", "parameter_unknown"),
        ([("line_items[0][price_data][currency]", "eur"), ("line_items[0][price_data][extra]", "1")],
         "line_items[0][price_data][extra]", "parameter_unknown"),
        ([("line_items[0][price_data][unit_amount]", "1")], "line_items[0][price_data][currency]", "parameter_missing"),
        ([("line_items[0][quantity]", "1.5")], "line_items[0][quantity]", "parameter_invalid_integer"),
        ([("mode", "rent")], "mode", None),
        ([("allow_promotion_codes", "yes")], "allow_promotion_codes", None),
        ([("line_items", "all")], "line_items", None),
    ],
)  # fmt: skip
def test_validation_errors_in_stripe_shape(pairs: list[tuple[str, str]], param: str, code: str | None) -> None:
    with pytest.raises(ParamError) as exc:
        validate_params(decode_form(pairs, CREATE), spec.validator_for("create_session"))
    assert exc.value.param == param
    assert exc.value.code == code
    body = exc.value.to_error()
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"].get("param") == param


def test_expire_schema_from_spec_subset_allows_only_expand() -> None:
    v = spec.validator_for("expire_session")
    schema = spec.schema_for("expire_session")
    validate_params(decode_form([("expand[0]", "line_items")], schema), v)
    with pytest.raises(ParamError) as exc:
        validate_params(decode_form([("reason", "x")], schema), v)
    assert exc.value.code == "parameter_unknown"


def test_conflicting_shapes_are_rejected() -> None:
    with pytest.raises(ParamError):
        decode_form([("metadata[a]", "x"), ("metadata[a][b]", "y")], CREATE)
