"""What ``manifest.json`` records of a run besides its parameters and counts: the checksum of
every file the source was read from, the package versions and the code revision."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from channel_analysis import schema
from channel_analysis.sources.parquet import parquet_parts
from channel_analysis.store.prepared import file_sha256

_VERSIONED = ("channel-analysis", "pandas", "numpy", "duckdb", "ibis-framework", "pandera", "pyarrow", "statsmodels")


def _checksums(data: str) -> dict[str, str]:
    """SHA-256 of every file the source was read from (a folder's table files, or the database file)."""

    path = Path(data)
    if path.is_dir():
        names = {f"{t}." for t in schema.TABLES} | {"dealer_data."}
        files = [p for p in sorted(path.iterdir()) if p.is_file() and any(p.name.lower().startswith(n) for n in names)]
        # a table given as a folder of Parquet parts: every part, as the reader finds them
        folders = [p for p in sorted(path.iterdir()) if p.is_dir() and p.name.strip().lower() in schema.TABLES]
        files += [part for folder in folders for part in parquet_parts(folder)]
    else:
        files = [path] if path.is_file() else []
    root = path if path.is_dir() else path.parent
    return {p.relative_to(root).as_posix(): file_sha256(p) for p in files}


def _code_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
        return rev.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out
