"""The layer contracts (pyproject.toml [tool.importlinter], run by `make lint`) hold on the tree,
and they do catch a back-arrow: a copy of the package with one planted fails them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_layers() -> None:
    result = lint_imports(ROOT / "functions" / "shared")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "planted"),
    [
        ("domain/orders.py", "import renewal.usecases.checkout"),  # the domain reaching up
        ("adapters/queue.py", "import renewal.usecases.payments"),  # an adapter importing a use case
        ("usecases/refunds.py", "import boto3"),  # the AWS SDK outside adapters
        ("usecases/refunds.py", "import renewal.adapters.dynamodb_orders"),  # a use case on an adapter
    ],
)
def test_a_planted_back_arrow_fails(tmp_path: Path, module: str, planted: str) -> None:
    shutil.copytree(ROOT / "functions" / "shared" / "renewal", tmp_path / "renewal")
    target = tmp_path / "renewal" / module
    target.write_text(target.read_text() + f"\n{planted}  # planted by test_layers\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0 and "BROKEN" in result.stdout, result.stdout


def test_no_module_imports_another_modules_private_names() -> None:
    """A module's `_name` is its own: what others need is public (issue 15: `_table`, `_connection`,
    `mail._money` were imported across modules)."""
    import ast

    offenders = []
    for path in sorted((ROOT / "functions").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("renewal"):
                offenders += [
                    f"{path.relative_to(ROOT)}: {alias.name}" for alias in node.names if alias.name.startswith("_")
                ]
    assert offenders == []


def test_only_the_settings_module_reads_the_environment() -> None:
    """Settings are read once, typed, in renewal.settings, and handed down by renewal.wiring. The
    DynamoDB base's table names are the one exception left (its models name their tables when
    defined), listed here so a new one fails."""
    import ast

    readers = set()
    for path in sorted((ROOT / "functions").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                value = node.value
                if isinstance(value, ast.Name) and value.id == "os":
                    readers.add(str(path.relative_to(ROOT)))
    assert readers == {
        "functions/shared/renewal/settings.py",
        "functions/shared/renewal/adapters/dynamodb.py",
    }


def test_every_port_lives_in_ports() -> None:
    """What the use cases need from the outside world is declared in one place (renewal.ports)."""
    import ast

    elsewhere = []
    for path in sorted((ROOT / "functions" / "shared" / "renewal").rglob("*.py")):
        if path.name == "ports.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(base, ast.Name) and base.id == "Protocol") for base in node.bases
            ):
                elsewhere.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert elsewhere == []
