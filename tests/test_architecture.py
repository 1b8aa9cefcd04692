"""The package's shape (docs/architecture.md): stages as subpackages with one job each, imports only
down the layers (the import-linter contract of pyproject.toml), no import hidden in a function,
small modules, and tests that mirror the package without importing one another."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "channel_analysis"
TESTS = ROOT / "tests"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_layers_contract_holds():
    """lint-imports (import-linter) on pyproject.toml's contract: a module importing from a layer
    above its own fails here, and so does a cycle (imports inside functions included)."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Contracts: 1 kept, 0 broken." in done.stdout


def test_every_stage_is_a_layer_of_the_contract():
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    layered = {name.strip() for layer in contract["layers"] for name in layer.replace(":", "|").split("|")}
    stages = {f"channel_analysis.{p.stem if p.is_file() else p.name}" for p in PACKAGE.iterdir()
              if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    assert stages == layered


def test_the_package_root_holds_at_most_twelve_modules_and_each_stage_says_its_job_in_a_line():
    root = [p for p in PACKAGE.glob("*.py")]
    assert len(root) <= 12, sorted(p.name for p in root)
    for package in [p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()]:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.strip().splitlines()) == 1, package.name


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in _modules() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}


def test_no_module_imports_the_package_inside_a_function():
    """An import placed inside a function to dodge a cycle hides the real layering (the command line,
    which loads each command's stage when it runs, is the one exception)."""
    hidden = []
    for path in _modules():
        if path.name in ("cli.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and (inner.level or (inner.module or "").startswith("channel_analysis")):
                        hidden.append(f"{path.relative_to(PACKAGE)}:{inner.lineno}")
    assert hidden == []


def test_the_tests_mirror_the_package_and_import_no_other_test_module():
    stages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name not in ("helpers", "__pycache__")
               and not p.name.startswith(".")}
    assert folders <= stages | {"panel", "figures"}, folders - stages
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            assert not any(n.split(".")[0].startswith("test_") or n == "conftest" for n in names), (path, names)
