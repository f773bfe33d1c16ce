"""Point 1, cold start: a fresh Python process that imports each function's handler module as
Lambda's init does (its CodeUri, then the layer, on sys.path; the template's environment; AWS
endpoints pointed at a closed port, so nothing reaches a network), beside the floor: a process
that only imports boto3 and makes one client. Each function runs right after a floor run and
right before its "floor + libraries" run (the floor's process also importing the third-party
modules the handler loads, without any of our code); ratios are taken within each such trio and
their median over `runs` rounds reported. A run is timed from spawn to the end of init (Lambda's
init phase), not to the process's exit.

Our code is compiled as the layer's build does (functions/shared/Makefile: unchecked-hash .pyc,
since Lambda's /opt is read-only); the installed packages have their .pyc too, as the build ships
them. Optionally (`deployed=True`, `--deployed-cold-start`) the same again "without bytecode": what
SAM's own python3.11 build method would ship (not a single .pyc), so every cold start compiles the
layer from source. Simulated with the layer's dependencies installed `--no-compile` into a cache
folder and the project's code copied without __pycache__."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.bench.stats import median, ratio

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "http://127.0.0.1:9"  # nothing listens there: init must not need the network

# Every measured process prints, once its init is done, CLOCK_MONOTONIC (one clock for all
# processes on Linux): spawn to ready is what Lambda's init costs; the process's exit is not.
READY = """
print(json.dumps({"init_ms": (time.perf_counter() - started) * 1000, "ready_at": time.monotonic()}))
"""
FLOOR_CODE = (
    """import json, time
started = time.perf_counter()
import boto3
boto3.client("dynamodb")
"""
    + READY
)
# What Lambda's init does: import the template's Handler module and look the function up.
IMPORT_HANDLER = """module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
getattr(importlib.import_module(module_name), function_name)
"""
HANDLER_CODE = "import importlib, json, os, time\nstarted = time.perf_counter()\n" + IMPORT_HANDLER + READY
# The third-party modules a handler's import left in sys.modules, in the order they were loaded.
LIBRARY_LIST_CODE = (
    "import importlib, json, os, sys\n"
    + IMPORT_HANDLER
    + """loaded = list(sys.modules.items())
print(json.dumps([name for name, m in loaded if "site-packages" in (getattr(m, "__file__", "") or "")]))
"""
)
LIBRARIES = "libraries of "


@dataclass(frozen=True)
class Target:
    name: str  # the function's logical id, or "floor"
    code: str
    path: list[Path]
    environment: dict[str, str]
    cwd: Path


def _base_environment() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", tempfile.gettempdir()),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": CLOSED,
        "AWS_ENDPOINT_URL_DYNAMODB": CLOSED,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def targets(code_root: Path = ROOT, layer_extra: list[Path] | None = None) -> list[Target]:
    from infra.local.template import LocalStack, load_template

    stack = LocalStack(load_template(ROOT / "template.yaml"), "bench", "us-east-1", {}, lenient=True)
    found = [Target("floor", FLOOR_CODE, [], _base_environment(), Path(tempfile.gettempdir()))]
    for spec in stack.functions():
        code_dir = code_root / Path(spec.code_dir).relative_to(ROOT)
        layers = [code_root / Path(p).relative_to(ROOT) for p in spec.layer_dirs]
        environment = {
            **_base_environment(),
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(code_dir),
        }
        found.append(
            Target(spec.logical_id, HANDLER_CODE, [code_dir, *layers, *(layer_extra or [])], environment, code_dir)
        )
    return found


def _spawn_measured(argv: list[str], cwd: Path, environment: dict[str, str]) -> tuple[float, int, bytes, bytes, int]:
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(argv, cwd=cwd, env=environment, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = (time.perf_counter() - started) * 1000
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return wall, usage.ru_maxrss, out.read(), err.read(), process.returncode


def measure_target(target: Target) -> dict[str, Any]:
    environment = dict(target.environment)
    if target.path:
        environment["PYTHONPATH"] = os.pathsep.join(str(p) for p in target.path)
    spawned = time.monotonic()
    wall, maxrss_kb, out, err, code = _spawn_measured([sys.executable, "-c", target.code], target.cwd, environment)
    if code != 0:
        raise RuntimeError(f"{target.name} failed to start: {err.decode(errors='replace')[-2000:]}")
    reported = json.loads(out.decode().strip().splitlines()[-1])
    return {
        "wall_ms": wall,
        "ready_ms": (reported["ready_at"] - spawned) * 1000,
        "init_ms": reported["init_ms"],
        "maxrss_mb": maxrss_kb / 1024,
    }


def library_target(target: Target) -> Target:
    """The floor's process (one DynamoDB client) that also imports the third-party modules `target`'s
    handler loads (same sys.path and environment), without running any of our code. The collector
    is held off as renewal.startup holds it off for the handler, so the difference is our code's."""
    environment = dict(target.environment)
    environment["PYTHONPATH"] = os.pathsep.join(str(p) for p in target.path)
    _, _, out, err, code = _spawn_measured([sys.executable, "-c", LIBRARY_LIST_CODE], target.cwd, environment)
    if code != 0:
        raise RuntimeError(f"{target.name} failed to start: {err.decode(errors='replace')[-2000:]}")
    modules = json.loads(out.decode().strip().splitlines()[-1])
    code_text = (
        "import gc, importlib, json, time\ngc.disable()\nstarted = time.perf_counter()\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "import boto3\nboto3.client('dynamodb')\n" + READY
    )
    return Target(LIBRARIES + target.name, code_text, target.path, target.environment, target.cwd)


def import_profile(target: Target, top: int = 6) -> list[dict[str, Any]]:
    """Where one cold start's time goes (python -X importtime): each module's own time (its body,
    without the modules it imports), summed per top-level package, heaviest first."""
    environment = dict(target.environment)
    if target.path:
        environment["PYTHONPATH"] = os.pathsep.join(str(p) for p in target.path)
    _, _, _, err, _ = _spawn_measured([sys.executable, "-X", "importtime", "-c", target.code], target.cwd, environment)
    totals: dict[str, float] = {}
    for line in err.decode(errors="replace").splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        if match:
            package = match.group(2).split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(match.group(1)) / 1000
    heaviest = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return [{"module": name, "ms": ms} for name, ms in heaviest]


def code_copy(cache: Path, compiled: bool = True) -> Path:
    """functions/ and template.yaml, our code compiled as the layer's build compiles it (or, with
    compiled=False, without any bytecode), whatever bytecode the tests left in the work tree."""
    code_root = cache / ("code" if compiled else "code-source")
    if code_root.exists():
        shutil.rmtree(code_root)
    shutil.copytree(ROOT / "functions", code_root / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "template.yaml", code_root / "template.yaml")
    if compiled:
        _compile_layer(code_root)
    return code_root


def _compile_layer(code_root: Path) -> None:
    """The same command as functions/shared/Makefile's build-SharedLayer."""
    shared = code_root / "functions" / "shared"
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(shared)], check=True
    )


def deployed_copy(cache: Path) -> tuple[Path, Path]:
    """The project's code without bytecode, and the layer's dependencies installed without it
    (what SAM's own python3.11 build method ships), for the "without bytecode" column."""
    code_root = code_copy(cache, compiled=False)
    requirements = (ROOT / "functions" / "shared" / "requirements.txt").read_text()
    layer = cache / "layer-deps"
    stamp = layer / ".requirements"
    if not stamp.exists() or stamp.read_text() != requirements:
        if layer.exists():
            shutil.rmtree(layer)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-compile",
                "--target",
                str(layer),
                "-r",
                str(ROOT / "functions" / "shared" / "requirements.txt"),
                "-c",
                str(ROOT / "requirements.lock"),
            ],
            check=True,
        )
        stamp.write_text(requirements)
    return code_root, layer


def measure(runs: int = 7, deployed_runs: int = 0, cache: Path | None = None, log: Any = print) -> dict[str, Any]:
    cache = cache or ROOT / ".local" / "bench-cold"
    floor, *functions = targets(code_copy(cache))
    # Each function's libraries added to the floor, imported as the handler imports them: the rest
    # of the function's cold start is our code's.
    libraries = {t.name: library_target(t) for t in functions}
    # Measured as trios (floor, function, floor + its libraries) back to back, and each ratio taken
    # within its trio: the shared machine's speed drifts by tens of percent over a minute, which
    # would otherwise land on whichever process ran in a slow moment. Round 0 warms the page cache.
    samples: dict[str, list[dict[str, Any]]] = {"floor": []}
    trios: dict[str, list[tuple[float, float, float]]] = {t.name: [] for t in functions}
    for round_no in range(runs + 1):
        for target in functions:
            trio = [measure_target(t) for t in (floor, target, libraries[target.name])]
            if round_no:
                samples["floor"].append(trio[0])
                samples.setdefault(target.name, []).append(trio[1])
                trios[target.name].append((trio[0]["ready_ms"], trio[1]["ready_ms"], trio[2]["ready_ms"]))
        log(f"  cold start: round {round_no}/{runs}" + (" (warm-up)" if not round_no else ""))
    deployed: dict[str, list[dict[str, Any]]] = {}
    if deployed_runs:
        code_root, layer = deployed_copy(cache)
        as_deployed = targets(code_root, [layer])
        deployed = {t.name: [] for t in as_deployed}
        for round_no in range(deployed_runs):
            for target in as_deployed:
                deployed[target.name].append(measure_target(target))
            log(f"  cold start without bytecode: round {round_no + 1}/{deployed_runs}")
    floor_ms = median([s["ready_ms"] for s in samples["floor"]])
    floor_deployed = median([s["ready_ms"] for s in deployed["floor"]]) if deployed else None
    rows = []
    for target in (floor, *functions):
        ready = median([s["ready_ms"] for s in samples[target.name]])
        row: dict[str, Any] = {
            "function": target.name,
            "median_ms": ready,
            "min_ms": min(s["ready_ms"] for s in samples[target.name]),
            "init_ms": median([s["init_ms"] for s in samples[target.name]]),
            "peak_mb": median([s["maxrss_mb"] for s in samples[target.name]]),
            "ratio": 1.0,
            "runs": runs,
        }
        if target.name != "floor":
            measured = trios[target.name]
            row["ratio"] = median([f / base for base, f, _ in measured])
            row["libraries_ms"] = median([lib for _, _, lib in measured])
            row["libraries_ratio"] = median([lib / base for base, _, lib in measured])
            row["own_code_ms"] = median([f - lib for _, f, lib in measured])
            row["heaviest_imports"] = import_profile(target)
        if deployed and floor_deployed:
            row["deployed_median_ms"] = median([s["ready_ms"] for s in deployed[target.name]])
            row["deployed_ratio"] = ratio(row["deployed_median_ms"], floor_deployed)
        rows.append(row)
    return {
        "floor_ms": floor_ms,
        "floor": "a fresh process: import boto3; boto3.client('dynamodb')",
        "goal_ratio": 1.25,
        "functions": rows,
        "deployed_runs": deployed_runs,
    }
