"""The gateway checks tokens as API Gateway's JWT authorizer does: only a valid ID token for
our app client, signed by our user pool and unexpired, gets through."""

from __future__ import annotations

import base64
import gzip
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.local.client import call, cognito, log_in, sign_up


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _header(token: str) -> dict[str, Any]:
    return jwt.get_unverified_header(token)


def _moto_signing_key() -> Any:
    """moto's user pools sign with this key; only a local test can mint with it."""
    import moto.cognitoidp

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    return jwt.PyJWK(json.loads(gzip.decompress(path.read_bytes()))).key


def _b64(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def test_valid_token_passes(outputs: dict[str, str], new_customer: dict) -> None:
    assert call(outputs, "GET", "/account", new_customer["token"]).status_code == 200


def test_expired_token_is_401(outputs: dict[str, str], new_customer: dict, is_local: bool) -> None:
    if not is_local:
        pytest.skip("minting an expired token needs the local pool's signing key")
    claims = _claims(new_customer["token"]) | {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}
    expired = jwt.encode(
        claims, _moto_signing_key(), algorithm="RS256", headers={"kid": _header(new_customer["token"])["kid"]}
    )
    assert call(outputs, "GET", "/account", expired).status_code == 401
    # the same claims with a live expiry pass, so it is the expiry that was refused
    live = jwt.encode(
        claims | {"exp": int(time.time()) + 600},
        _moto_signing_key(),
        algorithm="RS256",
        headers={"kid": _header(new_customer["token"])["kid"]},
    )
    assert call(outputs, "GET", "/account", live).status_code == 200


def test_token_for_another_app_client_is_401(outputs: dict[str, str]) -> None:
    client = cognito(outputs)
    other = client.create_user_pool_client(
        UserPoolId=outputs["UserPoolId"],
        ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    email, password = f"aud-{int(time.time() * 1000)}@example.com", "Pass-word-123"
    sign_up(outputs, email, password)
    token = log_in(outputs | {"UserPoolClientId": other}, email, password)
    assert _claims(token)["aud"] == other
    assert call(outputs, "GET", "/account", token).status_code == 401
    assert call(outputs, "GET", "/account", log_in(outputs, email, password)).status_code == 200


def test_bad_signature_is_401(outputs: dict[str, str], new_customer: dict) -> None:
    token = new_customer["token"]
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(token), forged_key, algorithm="RS256", headers={"kid": _header(token)["kid"]})
    assert call(outputs, "GET", "/account", forged).status_code == 401
    header, _payload, signature = token.split(".")
    tampered_payload = _b64(_claims(token) | {"sub": "someone-else"})
    assert call(outputs, "GET", "/account", f"{header}.{tampered_payload}.{signature}").status_code == 401


def test_alg_none_is_401(outputs: dict[str, str], new_customer: dict) -> None:
    token = new_customer["token"]
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': _header(token)['kid']})}.{_b64(_claims(token))}."
    assert call(outputs, "GET", "/account", unsigned).status_code == 401


def test_garbage_and_missing_tokens_are_401(outputs: dict[str, str]) -> None:
    assert call(outputs, "GET", "/account", "not-a-jwt").status_code == 401
    assert call(outputs, "GET", "/account").status_code == 401


def test_access_token_is_refused_by_the_api(outputs: dict[str, str], new_customer: dict) -> None:
    """API Gateway lets an access token through when its client_id matches, but it carries no
    email: the API asks for the ID token instead of making an account without one."""
    answer = cognito(outputs).initiate_auth(
        ClientId=outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": new_customer["email"], "PASSWORD": new_customer["password"]},
    )
    access = answer["AuthenticationResult"]["AccessToken"]
    assert _claims(access).get("client_id") == outputs["UserPoolClientId"]
    refused = call(outputs, "GET", "/account", access)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "id_token_required"


def test_the_id_token_carries_a_verified_email_after_confirmation(new_customer: dict) -> None:
    claims = _claims(new_customer["token"])
    assert claims["email"] == new_customer["email"] and claims["email_verified"] is True


def test_a_token_whose_email_is_not_verified_is_refused(outputs: dict[str, str], is_local: bool) -> None:
    """An unverified email (here: a user made by an admin without verifying it) is never trusted."""
    if not is_local:
        pytest.skip("makes an unverified user in the local pool")
    from infra.local.client import new_credentials

    email, password = new_credentials("unverified")
    idp = cognito(outputs)
    idp.admin_create_user(UserPoolId=outputs["UserPoolId"], Username=email, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": email}])  # fmt: skip
    idp.admin_set_user_password(UserPoolId=outputs["UserPoolId"], Username=email, Password=password, Permanent=True)
    token = log_in(outputs, email, password)
    assert _claims(token)["email_verified"] is False
    refused = call(outputs, "GET", "/account", token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "email_not_verified"
