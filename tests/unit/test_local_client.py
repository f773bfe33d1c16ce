"""The test and bench accounts' credentials must always pass the user pool's password policy,
whatever the random part is (a policy miss made CI fail one run in a few hundred)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local.client import new_credentials
from infra.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]


def _policy() -> dict[str, object]:
    resources = load_template(ROOT / "template.yaml")["Resources"]
    pools = [r for r in resources.values() if r["Type"] == "AWS::Cognito::UserPool"]
    assert len(pools) == 1
    policy: dict[str, object] = pools[0]["Properties"]["Policies"]["PasswordPolicy"]
    return policy


def _breaks(password: str, policy: dict[str, object]) -> list[str]:
    broken = []
    if len(password) < int(str(policy.get("MinimumLength", 8))):
        broken.append("MinimumLength")
    if policy.get("RequireNumbers") and not any(c.isdigit() for c in password):
        broken.append("RequireNumbers")
    if policy.get("RequireLowercase") and not any(c.islower() for c in password):
        broken.append("RequireLowercase")
    if policy.get("RequireUppercase") and not any(c.isupper() for c in password):
        broken.append("RequireUppercase")
    if policy.get("RequireSymbols") and all(c.isalnum() for c in password):
        broken.append("RequireSymbols")
    return broken


# "cccbaf" is the random part that failed CI: hex with no digit in it.
@pytest.mark.parametrize("token", ["cccbaf", "ffffffffff", "0123456789", None])
def test_generated_password_meets_the_template_policy_whatever_the_random_part(token: str | None) -> None:
    email, password = new_credentials("unit", token)
    assert _breaks(password, _policy()) == []
    assert email.startswith("unit-") and email.endswith("@example.com")


def test_each_call_gives_a_new_email() -> None:
    assert new_credentials("unit")[0] != new_credentials("unit")[0]
