"""The site's files without a browser: what the local gateway serves under /app/ (config.json from
the stack, directory redirects) and what `python -m infra.site publish` uploads. Milliseconds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from infra.local.gateway import LocalHttpApi
from infra.site import config_from_outputs, public_config, publish, site_files
from tests.browser.drive import ROOT

SITE = ROOT / "site"


@pytest.fixture
def gateway() -> Iterator[str]:
    config = public_config("http://127.0.0.1:1/", "us-east-1", "client-1", "http://127.0.0.1:2")
    api = LocalHttpApi([], lambda function, event: None, site_dir=SITE, site_config=config)
    api.start()
    try:
        yield api.url
    finally:
        api.stop()


def test_the_gateway_serves_the_site_and_its_config(gateway: str) -> None:
    config = requests.get(f"{gateway}/app/config.json", timeout=5)
    assert config.json() == {
        "ApiUrl": "http://127.0.0.1:1",
        "Region": "us-east-1",
        "UserPoolClientId": "client-1",
        "CognitoEndpoint": "http://127.0.0.1:2",
    }
    assert config.headers["Cache-Control"] == "no-store"
    page = requests.get(f"{gateway}/app/", timeout=5)
    assert page.headers["Content-Type"].startswith("text/html") and 'src="app.js"' in page.text
    assert requests.get(f"{gateway}/app/lib/i18n.js", timeout=5).headers["Content-Type"].startswith("text/javascript")
    for bare in ("/app", "/app/store"):
        moved = requests.get(gateway + bare, allow_redirects=False, timeout=5)
        assert (moved.status_code, moved.headers["Location"]) == (301, bare + "/")
    assert "store.js" in requests.get(f"{gateway}/app/store/", timeout=5).text
    assert requests.get(f"{gateway}/app/../template.yaml", timeout=5).status_code == 404


def test_the_pages_hold_no_settings_or_secrets() -> None:
    text = "\n".join(path.read_text() for path, _ in site_files(SITE) if path.suffix in {".html", ".js", ".css"})
    for forbidden in (r"sk_(test|live)_", r"whsec_", r"127\.0\.0\.1", r"execute-api", r"us-east-1_", r"hmac_secret"):
        assert not re.search(forbidden, text), forbidden


def test_a_deployed_site_talks_to_the_real_cognito() -> None:
    outputs = {"ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/", "UserPoolClientId": "c"}
    assert config_from_outputs(outputs, "eu-west-1") == {
        "ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com",
        "Region": "eu-west-1",
        "UserPoolClientId": "c",
        "CognitoEndpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
    }


class RecordingCloudFront:
    def __init__(self) -> None:
        self.invalidations: list[dict[str, Any]] = []

    def create_invalidation(self, **request: Any) -> None:
        self.invalidations.append(request)


@mock_aws
def test_publish_uploads_the_site_under_app_with_its_config() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="site")
    stray = SITE / "config.json"
    assert not stray.exists(), "site/config.json must not be committed: config.json is made per stack"
    cloudfront = RecordingCloudFront()
    config = public_config("https://api.example", "us-east-1", "client-1")
    written = publish(s3, "site", config, SITE, cloudfront=cloudfront, distribution_id="E123")

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="site")["Contents"]}
    assert {"app/index.html", "app/app.js", "app/store/index.html", "app/store/store.js", "app/config.json"} <= keys
    assert keys == set(written)
    index = s3.get_object(Bucket="site", Key="app/index.html")
    assert (index["ContentType"], index["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")
    assert s3.get_object(Bucket="site", Key="app/lib/api.js")["ContentType"] == "text/javascript; charset=utf-8"
    # The app's manifest as browsers want it; the service worker revalidated on every visit, or a
    # stale one would keep serving an old shell.
    manifest = s3.get_object(Bucket="site", Key="app/manifest.webmanifest")
    assert manifest["ContentType"] == "application/manifest+json"
    assert s3.get_object(Bucket="site", Key="app/sw.js")["CacheControl"] == "no-cache"
    assert {"app/icons/icon-192.png", "app/icons/icon-512.png", "app/manifest.zh-CN.webmanifest"} <= keys
    assert json.loads(s3.get_object(Bucket="site", Key="app/config.json")["Body"].read()) == config
    (invalidation,) = cloudfront.invalidations
    assert invalidation["DistributionId"] == "E123"
    assert invalidation["InvalidationBatch"]["Paths"]["Items"] == ["/app/*"]
