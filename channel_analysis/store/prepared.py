"""The prepared folder: a month's validated tables as Parquet files, typed as validation gave
them, and the figures the run computed for its month, each file checked against a marker
(``.validated.json``: its row count and SHA-256) when read back.

A monthly run validates its source once and writes the accepted rows here
(:func:`write_prepared_source`); the report notebooks read this folder instead of validating
the source again. Given anything else (a folder of CSV files, a database, a URL, or a prepared
folder whose files no longer match), :func:`load_source` reads and validates as the command
line does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from channel_analysis import schema
from channel_analysis.errors import ChannelAnalysisError
from channel_analysis.sources.read import read_source
from channel_analysis.store.views import PreparedTables
from channel_analysis.validate.memory import validate_source
from channel_analysis.validate.quality import data_quality

MARKER = ".validated.json"
PREPARED_FORMAT = 1


class PreparedSourceWarning(UserWarning):
    """A prepared folder did not match its marker (a file changed or is missing); it was validated again."""


def write_prepared_source(
    tables: dict[str, pd.DataFrame | Path],
    folder: str | Path,
    *,
    quality: pd.DataFrame | None = None,
) -> Path:
    """validated tables → ``folder`` with ``<table>.parquet`` per table and the marker ``.validated.json``;
    returns ``folder``.

    The figures the run computes for its month are added afterwards (:func:`add_figures`).

    Only the contract's columns are written (extra columns of the source are dropped), with the
    types validation gave them; each file keeps its rows' ``source_row``. A table given as a path
    (an accepted file of ``validate_stream.validate_parquet``) is moved into the folder as it is. The folder is itself a
    contract source (``channel-analysis validate --data FOLDER`` accepts it). It must be new,
    empty or an earlier prepared folder, which is replaced; the marker is written last, so a
    folder whose writing was interrupted is never taken for a prepared one.
    """
    folder = Path(folder)
    unknown = sorted(set(tables) - set(schema.TABLES))
    if unknown:
        raise ValueError(f"not contract tables: {', '.join(unknown)}")
    missing = [t for t in schema.REQUIRED_TABLES if t not in tables]
    if missing:
        raise ValueError(f"required table(s) missing: {', '.join(missing)}")
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / MARKER
    if marker.exists():
        previous = _read_marker(folder) or {}
        for entry in [*previous.get("tables", {}).values(), *previous.get("figures", {}).get("files", {}).values()]:
            (folder / entry.get("file", "")).unlink(missing_ok=True)
        marker.unlink()
    leftovers = [p.name for p in folder.iterdir()]
    if leftovers:
        raise ChannelAnalysisError(
            f"{folder} is not empty ({', '.join(sorted(leftovers)[:5])}): a prepared source needs a folder of its own"
        )
    entries = {}
    for name in schema.TABLES:  # contract order
        if name not in tables:
            continue
        frame = tables[name]
        path = folder / f"{name}.parquet"
        if isinstance(frame, Path):
            shutil.move(frame, path)
        else:
            columns = [c for c in schema.columns_of(name) if c in frame.columns]
            # an unnamed index is stored as pandas' "__index_level_0__": no clash with a contract column
            frame[columns].rename_axis(None).to_parquet(path, index=True)
        entries[name] = {"file": path.name, "rows": _rows_in(path), "sha256": file_sha256(path)}
    content = {"format": PREPARED_FORMAT, "written_by": f"channel-analysis {_version()}", "tables": entries}
    if quality is not None:
        content["quality"] = json.loads(quality.to_json(orient="records"))
    _write_marker(folder, content)
    return folder


def add_figures(folder: str | Path, figures: Mapping[str, pd.DataFrame | Path], meta: Mapping[str, Any]) -> Path:
    """Frames (or Parquet files, moved in) a run computed for its month, by name → beside the
    prepared tables of ``folder`` as ``figures.<name>.parquet``, with ``meta`` (their month ...)
    and their checksums in the marker, so that every report notebook of the month reads them
    instead of computing them again; returns ``folder``."""
    folder = Path(folder)
    content = _read_marker(folder)
    if content is None:
        raise ChannelAnalysisError(f"{folder} is not a prepared source: write its tables first")
    content["figures"] = {**meta, "files": _write_figure_files(figures, folder)}
    _write_marker(folder, content)
    return folder


def _write_marker(folder: Path, content: dict) -> None:
    """The marker, written beside and renamed into place: a folder whose writing was interrupted is
    never taken for a prepared one."""
    partial = folder / (MARKER + ".partial")
    partial.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, folder / MARKER)


def figure_path(folder: str | Path, name: str) -> Path:
    """Where figure ``name`` of a prepared folder is stored."""
    return Path(folder) / f"figures.{name}.parquet"


def _write_figure_files(figures: Mapping[str, pd.DataFrame | Path], folder: Path) -> dict[str, dict]:
    entries = {}
    for name, frame in figures.items():
        path = figure_path(folder, name)
        if isinstance(frame, Path):  # a file (a large network's panel) is moved in as it is
            shutil.move(frame, path)
        else:
            frame.to_parquet(path, index=False)
        entries[name] = {"file": path.name, "rows": _rows_in(path), "sha256": file_sha256(path)}
    return entries


def _rows_in(path: Path) -> int:
    return pq.read_metadata(path).num_rows


def _checked_file(folder: Path, entry: dict) -> Path:
    """A file listed in the marker → its path; ChannelAnalysisError when it is missing or changed
    (its checksum, or its row count from the file's footer)."""
    path = folder / str(entry.get("file"))
    if not path.is_file():
        raise ChannelAnalysisError(f"prepared source {folder}: {path.name} is missing")
    if file_sha256(path) != entry.get("sha256"):
        raise ChannelAnalysisError(f"prepared source {folder}: {path.name} changed since it was written (checksum)")
    rows = _rows_in(path)
    if rows != entry.get("rows"):
        raise ChannelAnalysisError(f"prepared source {folder}: {path.name} has {rows} rows, "
                                   f"the marker says {entry.get('rows')}")
    return path


def _version() -> str:
    try:
        return metadata.version("channel-analysis")
    except metadata.PackageNotFoundError:
        return "unknown"


def _read_marker(folder: Path) -> dict | None:
    try:
        content = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def is_prepared(folder: str | Path) -> bool:
    """True when ``folder`` has a prepared source's marker (whether or not its files still match)."""
    return Path(folder).is_dir() and (Path(folder) / MARKER).is_file()


def read_prepared_source(folder: str | Path) -> dict[str, pd.DataFrame]:
    """A prepared folder → its tables, as validation gave them (index ``source_row``).

    Raises :class:`~channel_analysis.errors.ChannelAnalysisError` naming the file when the
    marker is unreadable, a file is missing, changed (checksum or row count) or unexpected.
    """
    return dict(_read_prepared(Path(folder))[0])


def _read_prepared(folder: Path) -> tuple[PreparedTables, PreparedFigures | None, dict]:
    """A prepared folder → (its tables, the figures written with them or None, the marker)."""
    content = _read_marker(folder)
    if content is None or content.get("format") != PREPARED_FORMAT or not isinstance(content.get("tables"), dict):
        raise ChannelAnalysisError(f"{folder / MARKER} is not a prepared-source marker this version can read")
    entries = content["tables"]
    figure_files = (content.get("figures") or {}).get("files", {})
    listed = {entry.get("file") for entry in [*entries.values(), *figure_files.values()]}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed and p.name != MARKER)
    if extra:
        raise ChannelAnalysisError(f"prepared source {folder} holds files its marker does not list: {', '.join(extra)}")
    files = {}
    for name, entry in entries.items():
        if name not in schema.TABLES:
            raise ChannelAnalysisError(f"prepared source {folder}: '{name}' is not a contract table")
        files[name] = _checked_file(folder, entry)
    missing = [t for t in schema.REQUIRED_TABLES if t not in files]
    if missing:
        raise ChannelAnalysisError(f"prepared source {folder} lacks the required table(s) {', '.join(missing)}")
    tables = PreparedTables({name: files[name] for name in schema.TABLES if name in files})
    listed_figures = content.get("figures")
    figures = None
    if listed_figures:
        meta = {k: v for k, v in listed_figures.items() if k != "files"}
        figures = PreparedFigures(meta, {name: _checked_file(folder, entry) for name, entry in figure_files.items()})
    return tables, figures, content


@dataclass(frozen=True)
class PreparedFigures:
    """The figures a run wrote beside a prepared source: what the marker says of them (their
    month, ...) and their files, checked against the marker."""

    meta: dict[str, Any]
    files: dict[str, Path]


@dataclass(frozen=True)
class LoadedSource:
    """Validated tables and where they came from."""

    location: str
    tables: dict[str, pd.DataFrame]
    prepared: bool  # read from a prepared folder (no validation needed)
    rows_quarantined: int = 0  # rows validation set aside (0 for a prepared folder)
    quality: pd.DataFrame | None = None  # rows read, accepted, quarantined per table, when known
    figures: PreparedFigures | None = None  # what the run computed for its month (prepared folders only)


def load_source(data: str | Path) -> LoadedSource:
    """A prepared folder whose files match their marker → its tables, read directly; anything
    else (or a prepared folder that does not match, with a :class:`PreparedSourceWarning`) →
    ``read_source`` + ``validate_source``, as the command line does."""
    if isinstance(data, (str, Path)) and "://" not in str(data) and is_prepared(data):
        try:
            tables, figures, marker = _read_prepared(Path(data))
            quality = pd.DataFrame(marker["quality"]) if marker.get("quality") else None
            rows = int(quality["rows_quarantined"].sum()) if quality is not None else 0
            return LoadedSource(str(data), tables, prepared=True, rows_quarantined=rows, quality=quality,
                                figures=figures)
        except ChannelAnalysisError as exc:
            warnings.warn(f"{exc}; validating the folder as an ordinary source instead", PreparedSourceWarning,
                          stacklevel=2)
    validated = validate_source(read_source(data))
    return LoadedSource(validated.location, validated.tables, prepared=False,
                        rows_quarantined=validated.quarantined_total, quality=data_quality(validated))


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:  # by blocks: a source file may be larger than memory
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
