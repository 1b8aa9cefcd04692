"""pyproject.toml and environment.yml pin the same packages to the same ranges."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*?)\s*$")


def _split(requirement: str) -> tuple[str, str]:
    name, _extras, spec = _REQ.match(requirement).groups()
    name = CONDA_TO_PYPI.get(name.lower(), name.lower())
    return name, spec.replace(" ", "")


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return dict(_split(r.split(";")[0].split("#")[0]) for r in reqs)


def _environment() -> dict[str, str]:
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    flat = []
    for dep in deps:
        flat.extend(dep["pip"] if isinstance(dep, dict) else [dep])
    pairs = dict(_split(d) for d in flat if not d.startswith("-e"))
    for tool in ("python", "pip"):
        pairs.pop(tool, None)
    return pairs


def test_environment_mirrors_pyproject():
    assert _environment() == _pyproject()


def test_split_keeps_the_range_and_drops_extras():
    assert _split("ibis-framework[duckdb]>=12.0,<12.1") == ("ibis-framework", ">=12.0,<12.1")
    assert _split("python-duckdb>=2.0,<2.1") == ("duckdb", ">=2.0,<2.1")


def test_python_floor_is_the_same():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    assert f"python{project['requires-python']}" in deps
