"""Settings are typed and checked when built: a missing variable fails a function's init with the
variable's name, never later with a KeyError or a `missing-env-...` name in a request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from renewal.settings import MissingSetting, Settings

FULL = {
    "CARRIER_API_URL": "https://carrier.example.net",
    "CARRIER_SECRET_NAME": "carrier",
    "CARRIER_TIMEOUT_SECONDS": "4",
    "MAIL_FROM": "renewals@example.net",
    "STRIPE_SECRET_NAME": "stripe",
    "FUNCTION_TIMEOUT_SECONDS": "90",
    "MAIL_SEND_RATE_PER_SECOND": "14",
    "MAIL_SENDERS": "2",
}


def test_sections_are_typed() -> None:
    settings = Settings(FULL)
    assert settings.carrier().timeout_s == 4.0 and settings.carrier().api_url.startswith("https://")
    assert settings.mail().configuration_set is None
    assert settings.stripe().api_base is None
    assert settings.claim_lease() == timedelta(seconds=180)  # twice activate's timeout
    assert settings.mail_rate_per_sender() == 7.0


@pytest.mark.parametrize(
    ("missing", "section"),
    [("CARRIER_API_URL", "carrier"), ("MAIL_FROM", "mail"), ("STRIPE_SECRET_NAME", "stripe"),
     ("FUNCTION_TIMEOUT_SECONDS", "claim_lease")],
)  # fmt: skip
def test_a_missing_variable_is_named(missing: str, section: str) -> None:
    settings = Settings({k: v for k, v in FULL.items() if k != missing})
    with pytest.raises(MissingSetting, match=missing):
        getattr(settings, section)()


def test_a_number_that_is_not_one_is_named() -> None:
    with pytest.raises(MissingSetting, match="CARRIER_TIMEOUT_SECONDS"):
        Settings({**FULL, "CARRIER_TIMEOUT_SECONDS": "five"}).carrier()
