"""What `make run` prints first: the site, the store console and their logins; the reminder
example as of a date relative to today, not a fixed one that has passed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from infra.local.stack import _banner

OUTPUTS = {
    "ApiUrl": "http://127.0.0.1:3000",
    "SiteUrl": "http://127.0.0.1:3000/app/",
    "DemoUserEmail": "demo@example.com",
    "DemoUserPassword": "Demo-pass-2026",
    "DemoStaffEmail": "staff@example.com",
    "DemoStaffPassword": "Staff-pass-2026",
    "DemoStaffStoreId": "HKG-T1",
}


def test_the_banner_leads_with_the_site_the_console_and_the_logins() -> None:
    lines = [line for line in _banner(OUTPUTS, Path(".local"), today=date(2026, 12, 3)).splitlines() if line]
    assert lines[0].startswith("The renewal pipeline is running locally")
    assert lines[1].split() == ["Website", "http://127.0.0.1:3000/app/"]
    assert "demo@example.com / Demo-pass-2026" in lines[2]
    assert lines[3].split() == ["Store", "console", "http://127.0.0.1:3000/app/store/"]
    assert "staff@example.com / Staff-pass-2026" in lines[4]


def test_the_reminder_example_is_a_week_from_today() -> None:
    assert "make remind NOW=2026-12-09T09:00:00Z" in _banner(OUTPUTS, Path(".local"), today=date(2026, 12, 3))
    assert "make remind NOW=2027-01-06T09:00:00Z" in _banner(OUTPUTS, Path(".local"), today=date(2026, 12, 31))
