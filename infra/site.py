"""The website's public settings and publishing the site (`site/`) to a deployed stack.

The pages hold no settings and no secrets: they read `config.json` next to them, which names the
API, the Cognito app client and the Cognito endpoint. Locally the gateway serves that file
(`/app/config.json`, made by `public_config` from the local stack's endpoints); for a deployed
stack `publish` writes it from the stack's outputs and uploads the site:

    python -m infra.site config  --outputs .local/outputs.json     # print the config a site gets
    python -m infra.site publish --stack-name renewal              # upload site/ + config.json, invalidate
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SITE_DIR = ROOT / "site"
# The site lives under /app/ both locally (the gateway) and behind CloudFront (object keys app/...).
PREFIX = "app/"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
# Revalidated on every visit: the pages, and the service worker (a stale one would keep serving
# an old shell).
NO_CACHE = {"sw.js"}


def cognito_endpoint(region: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/"


def public_config(api_url: str, region: str, user_pool_client_id: str, endpoint: str | None = None) -> dict[str, str]:
    """Everything the pages need, all of it public: a browser sees these in any request anyway."""
    return {
        "ApiUrl": api_url.rstrip("/"),
        "Region": region,
        "UserPoolClientId": user_pool_client_id,
        "CognitoEndpoint": endpoint or cognito_endpoint(region),
    }


def config_from_outputs(outputs: dict[str, str], region: str | None = None) -> dict[str, str]:
    """The same config from a stack's outputs (`.local/outputs.json` or a deployed stack's)."""
    chosen = region or outputs.get("Region") or "us-east-1"
    return public_config(outputs["ApiUrl"], chosen, outputs["UserPoolClientId"], outputs.get("AwsEndpointUrl"))


def site_files(site_dir: Path = SITE_DIR) -> Iterator[tuple[Path, str]]:
    """Each file to publish and its object key; a config.json in the tree is never published."""
    for path in sorted(site_dir.rglob("*")):
        relative = path.relative_to(site_dir).as_posix()
        if path.is_file() and relative != "config.json" and not relative.startswith("."):
            yield path, PREFIX + relative


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def publish(
    s3: Any,
    bucket: str,
    config: dict[str, str],
    site_dir: Path = SITE_DIR,
    *,
    cloudfront: Any = None,
    distribution_id: str | None = None,
) -> list[str]:
    """Uploads the site and its config.json; HTML and config are revalidated on every visit."""
    written = []
    for path, key in site_files(site_dir):
        kind = content_type(path)
        cache = "no-cache" if kind.startswith("text/html") or path.name in NO_CACHE else "public, max-age=300"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind, CacheControl=cache)
        written.append(key)
    s3.put_object(
        Bucket=bucket,
        Key=PREFIX + "config.json",
        Body=json.dumps(config, indent=2).encode(),
        ContentType="application/json",
        CacheControl="no-cache",
    )
    written.append(PREFIX + "config.json")
    if cloudfront is not None and distribution_id:
        cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": [f"/{PREFIX}*"]},
                "CallerReference": f"site-{time.time_ns()}",
            },
        )
    return written


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.site", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("config", help="print the config.json a site of these outputs gets")
    show.add_argument("--outputs", type=Path, default=ROOT / ".local" / "outputs.json")
    upload = sub.add_parser("publish", help="upload site/ and its config.json to a deployed stack's bucket")
    upload.add_argument("--stack-name", required=True)
    args = parser.parse_args(argv)
    if args.command == "config":
        print(json.dumps(config_from_outputs(json.loads(args.outputs.read_text())), indent=2))
        return 0
    import boto3

    session = boto3.session.Session()
    outputs = stack_outputs(session.client("cloudformation"), args.stack_name)
    config = config_from_outputs(outputs, session.region_name)
    written = publish(
        session.client("s3"),
        outputs["SiteBucketName"],
        config,
        cloudfront=session.client("cloudfront"),
        distribution_id=outputs.get("SiteDistributionId"),
    )
    print(f"published {len(written)} files at {time.strftime('%H:%M:%S')}; the site: {outputs.get('SiteUrl')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
