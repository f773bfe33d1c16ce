"""The shared layer as `sam build` makes it (functions/shared/Makefile, run here directly): the
lock's versions, no botocore of its own to shadow the runtime's, bytecode for python3.13 only."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("layer")
    build = subprocess.run(
        [
            "make",
            "-f",
            str(ROOT / "functions" / "shared" / "Makefile"),
            "build-SharedLayer",
            f"ARTIFACTS_DIR={artifacts}",
        ],
        cwd=ROOT / "functions" / "shared",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    return artifacts / "python"


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "_", name).lower()] = version
    return pins


def test_the_layer_ships_the_locked_versions(layer: Path) -> None:
    pins = locked()
    shipped = {}
    for dist in layer.glob("*.dist-info"):
        name, version = dist.name[: -len(".dist-info")].rsplit("-", 1)
        shipped[re.sub(r"[-_.]+", "_", name).lower()] = version
    assert {"pynamodb", "stripe", "aws_lambda_powertools", "pydantic_core"} <= set(shipped)
    assert {name: version for name, version in shipped.items() if pins.get(name) != version} == {}


def test_the_layer_leaves_boto3_and_botocore_to_the_runtime(layer: Path) -> None:
    assert not [p.name for p in layer.iterdir() if p.name.split("-")[0] in ("boto3", "botocore", "s3transfer")]


def test_the_layer_is_compiled_for_python313_only(layer: Path) -> None:
    compiled = list(layer.rglob("*.pyc"))
    assert len(compiled) > 500
    assert {p.name.split(".")[-2] for p in compiled} == {"cpython-313"}
    assert (layer / "renewal" / "__pycache__" / "wiring.cpython-313.pyc").exists()
