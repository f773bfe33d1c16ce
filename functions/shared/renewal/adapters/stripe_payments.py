"""Stripe, through the stripe SDK only. Keys come from Secrets Manager at run time."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import stripe

from renewal.adapters.secrets import json_secret
from renewal.domain.orders import Order, PaidSession
from renewal.ports import InvalidEvent, PaymentProviderError, Refund
from renewal.snapstart import after_restore

SIGNATURE_TOLERANCE_S = 300


def stripe_secret(secret_name: str) -> Callable[[], dict[str, str]]:
    """{"api_key", "webhook_secret"} from Secrets Manager (cached five minutes), read when asked."""
    return lambda: {key: str(value) for key, value in json_secret(secret_name).items()}


class StripePayments:
    def __init__(self, secret: Callable[[], dict[str, str]], api_base: str | None = None) -> None:
        """`secret` gives {"api_key", "webhook_secret"} (`stripe_secret`, or a test's own);
        `api_base` points the SDK at another Stripe (only the local stack does)."""
        self._client: stripe.StripeClient | None = None
        self._secret = secret
        self._api_base = api_base
        after_restore(self._forget_client)  # SnapStart: its HTTP session's sockets are dead

    def _forget_client(self) -> None:
        self._client = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            base = self._api_base
            self._client = stripe.StripeClient(
                self._secret()["api_key"], base_addresses={"api": base} if base else {}, max_network_retries=2
            )
        return self._client

    def create_session(
        self, order: Order, success_url: str, cancel_url: str, expires_at: datetime, methods: list[str]
    ) -> tuple[str, str]:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": order.currency.lower(),
                        "unit_amount": order.amount,
                        "product_data": {"name": order.plan.name},
                    },
                }
            ],
            "client_reference_id": order.order_id,
            "metadata": {"order_id": order.order_id, "account_id": order.account_id},
            "payment_intent_data": {"metadata": {"order_id": order.order_id}},
            "customer_email": order.email or None,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
            "allowed_payment_method_types": methods,
        }
        try:
            session = self.client.v1.checkout.sessions.create(
                params={k: v for k, v in params.items() if v is not None},  # type: ignore[arg-type]
                options={"idempotency_key": f"checkout-{order.order_id}"},
            )
        except stripe.StripeError as error:
            raise PaymentProviderError(error.user_message or str(error)) from error
        return str(session.id), str(session.url)

    def session(self, session_id: str) -> PaidSession:
        try:
            found = self.client.v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as error:
            raise PaymentProviderError(str(error)) from error
        return paid_session(found.to_dict())

    def expire_session(self, session_id: str) -> None:
        try:
            self.client.v1.checkout.sessions.expire(session_id)
            return
        except stripe.InvalidRequestError as error:
            refused = error  # e.g. "Only Checkout Sessions with a status in ["open"] can be expired."
        except stripe.StripeError as error:
            raise PaymentProviderError(str(error)) from error
        # Stripe gives no error code for "not open": its word on the session decides. Completed or
        # expired meanwhile is what the caller expects to happen; still open is a real failure.
        if self.session(session_id).status == "open":
            raise PaymentProviderError(str(refused)) from refused

    def session_of_event(self, obj: dict[str, Any]) -> PaidSession:
        """A verified event's `data.object` is a whole Checkout Session as Stripe saw it when the
        event happened: the same conversion as a session read from the API."""
        return paid_session(obj)

    def completed_sessions(self, since: datetime) -> list[PaidSession]:
        """Checkout Sessions completed (paid or not) created since `since`, newest first."""
        try:
            listing = self.client.v1.checkout.sessions.list(
                params={"status": "complete", "created": {"gte": int(since.timestamp())}, "limit": 100}
            )
            return [paid_session(found.to_dict()) for found in listing.auto_paging_iter()]
        except stripe.StripeError as error:
            raise PaymentProviderError(str(error)) from error

    def refunds_for_charge(self, charge_id: str) -> list[Refund]:
        try:
            listing = self.client.v1.refunds.list(params={"charge": charge_id, "limit": 100})
        except stripe.StripeError as error:
            raise PaymentProviderError(str(error)) from error
        return [Refund(str(r.id), int(r.amount), str(r.status)) for r in listing.auto_paging_iter()]

    def verify_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        if not signature:
            raise InvalidEvent("missing Stripe-Signature header")
        # stripe's own check of the signature, then plain JSON: `Webhook.construct_event` would
        # also build a StripeObject tree that we only turn back into a dict (most of its CPU
        # per event; re-measure with `make bench`), and it parses the body before checking it.
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, self._secret()["webhook_secret"], SIGNATURE_TOLERANCE_S
            )
        except stripe.SignatureVerificationError as error:
            raise InvalidEvent(f"bad signature: {error.user_message or error}") from error
        except (ValueError, UnicodeDecodeError, TypeError) as error:
            raise InvalidEvent(f"malformed event: {error}") from error
        try:
            document = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as error:
            raise InvalidEvent(f"malformed event: {error}") from error
        if not isinstance(document, dict):
            raise InvalidEvent("malformed event: the body is not a JSON object")
        return document


def paid_session(raw: dict[str, Any]) -> PaidSession:
    """A Checkout Session (as a plain dict: retrieved, listed or carried by an event) reduced to
    what we check. The one place Stripe's session shape becomes the domain's."""
    metadata = raw.get("metadata") or {}
    intent = raw.get("payment_intent")
    total = raw.get("amount_total")
    return PaidSession(
        session_id=str(raw["id"]),
        status=str(raw.get("status")),
        payment_status=str(raw.get("payment_status")),
        amount_total=int(total) if total is not None else None,
        currency=raw.get("currency"),
        order_id=metadata.get("order_id"),
        account_id=metadata.get("account_id"),
        client_reference_id=raw.get("client_reference_id"),
        payment_intent=intent if isinstance(intent, str) or intent is None else str(intent.get("id")),
    )
