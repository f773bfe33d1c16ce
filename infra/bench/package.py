"""Point 6, package size: `sam build` (SAM CLI from .venv-tools; no Docker needed when Python 3.13
is on PATH) into a scratch folder, then each function's bundle and the layer zipped as `sam
package` would (deflate). Where `sam build` is not available, the same dependency set is taken
from this project's virtualenv instead, and the report says so.

The floor is what a function needs to ship at all: its own code, plus the layer without what
Lambda's Python runtime already provides (boto3, botocore and their dependencies)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from infra.bench.stats import ratio

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv-tools" / "bin" / "sam"
# In the python3.13 runtime already (its boto3 and what boto3 needs).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
LAMBDA_LIMIT_UNZIPPED_MB = 250  # function plus all its layers


def _zip_size(folder: Path, scratch: Path, skip: tuple[str, ...] = ()) -> tuple[int, int]:
    """(zipped bytes, unzipped bytes) of a folder; top-level entries of `python/` named in
    `skip` (or their .dist-info) are left out."""
    target = scratch / (folder.name + ("-floor" if skip else "") + ".zip")
    unzipped = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            relative = path.relative_to(folder)
            parts = relative.parts
            if skip and len(parts) > 1 and parts[0] == "python":
                top = parts[1].split("-")[0].removesuffix(".py").lower()
                if top in skip or (top == "python_dateutil" and "dateutil" in skip):
                    continue
            archive.write(path, relative.as_posix())
            unzipped += path.stat().st_size
    return target.stat().st_size, unzipped


def _heaviest(layer: Path, top: int = 6) -> list[dict[str, Any]]:
    python = layer / "python"
    sizes: list[dict[str, Any]] = []
    for entry in python.iterdir() if python.is_dir() else []:
        if entry.name.endswith(".dist-info"):
            continue
        size = (
            sum(p.stat().st_size for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else entry.stat().st_size
        )
        sizes.append({"package": entry.name, "unzipped_mb": size / 1e6})
    return sorted(sizes, key=lambda s: -float(s["unzipped_mb"]))[:top]


def sam_build(build_dir: Path, cache_dir: Path) -> tuple[bool, str]:
    if not SAM.exists():
        return False, f"{SAM} not found (make validate installs it)"
    if subprocess.run([str(ROOT / "infra" / "find_python.sh"), "3.13"], capture_output=True).returncode != 0:
        return False, "no python3.13 (on PATH or under pyenv) to build the layer with"
    command = [
        str(SAM),
        "build",
        "--template-file",
        str(ROOT / "template.yaml"),
        "--build-dir",
        str(build_dir),
        "--cache-dir",
        str(cache_dir),
        "--cached",
    ]
    answer = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "SAM_CLI_TELEMETRY": "0"}
    )
    if answer.returncode != 0:
        return False, (answer.stdout + answer.stderr)[-1500:]
    return True, "sam build (SAM CLI in .venv-tools), arm64 wheels for the layer"


def _venv_layer(scratch: Path) -> Path:
    """The layer's dependency set from this project's virtualenv (x86_64 wheels), when no sam."""
    import importlib.metadata as metadata

    layer = scratch / "SharedLayer" / "python"
    layer.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        ROOT / "functions" / "shared" / "renewal", layer / "renewal", ignore=shutil.ignore_patterns("__pycache__")
    )
    wanted = ["aws-lambda-powertools", "pynamodb", "stripe", "pydantic", "aws-xray-sdk"]
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file)))
            if source.is_file() and "__pycache__" not in source.parts:
                target = layer / file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            wanted.append(
                requirement.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].split("!")[0].strip()
            )
    return layer.parent


def measure(scratch: Path) -> dict[str, Any]:
    scratch.mkdir(parents=True, exist_ok=True)
    build = scratch / "sam-build"
    zips = scratch / "zips"
    if zips.exists():
        shutil.rmtree(zips)
    zips.mkdir()
    ok, how = sam_build(build, ROOT / ".local" / "bench-sam-cache")
    if not ok:
        reason = how
        build = scratch / "venv-set"
        if build.exists():
            shutil.rmtree(build)
        build.mkdir()
        _venv_layer(build)
        for code in sorted((ROOT / "functions").iterdir()):
            if code.name != "shared" and (code / "app.py").exists():
                shutil.copytree(code, build / code.name, ignore=shutil.ignore_patterns("__pycache__"))
        how = f"the layer's dependency set from .venv (x86_64 wheels); sam build failed: {reason[-300:]}"
    rows = []
    layer_dir = build / "SharedLayer"
    layer_zip, layer_unzipped = _zip_size(layer_dir, zips)
    floor_zip, floor_unzipped = _zip_size(layer_dir, zips, RUNTIME_PROVIDED)
    for folder in sorted(p for p in build.iterdir() if p.is_dir() and p.name != "SharedLayer"):
        zipped, unzipped = _zip_size(folder, zips)
        rows.append({"bundle": folder.name, "zipped_kb": zipped / 1024, "unzipped_kb": unzipped / 1024})
    return {
        "how": how,
        "layer": {
            "zipped_mb": layer_zip / 1e6,
            "unzipped_mb": layer_unzipped / 1e6,
            "floor_zipped_mb": floor_zip / 1e6,
            "floor_unzipped_mb": floor_unzipped / 1e6,
            "ratio": ratio(layer_zip, floor_zip),
            "floor": "the layer without " + ", ".join(RUNTIME_PROVIDED) + " (the runtime has them)",
            "heaviest": _heaviest(layer_dir),
            "limit_unzipped_mb": LAMBDA_LIMIT_UNZIPPED_MB,
        },
        "functions": rows,
    }
