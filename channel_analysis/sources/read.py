"""``read_source(spec)`` → :class:`~channel_analysis.sources.tables.Source` with one raw table per
contract table present: a folder of ``<table>.csv|.parquet|.xlsx`` files (or one
``dealer_data.xlsx`` with a sheet per table), a DuckDB or SQLite file, or a SQLAlchemy URL (see
the data contract, "Where the data lives").

Every problem that makes the source unusable (missing or unreadable file, a table given twice,
a database that cannot be reached ...) is collected and raised as one
:class:`~channel_analysis.errors.SourceError`. Passwords never appear in a message.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa

from channel_analysis.errors import SourceError
from channel_analysis.sources.database import _list_duckdb, _list_engine, _list_url, _parse_url
from channel_analysis.sources.files import _list_folder
from channel_analysis.sources.parquet import ParquetTable
from channel_analysis.sources.tables import WORKBOOK, RawTable, Source, _choose, _Entry, _Listing, _Unreadable, _wanted

_SQLITE_MAGIC = b"SQLite format 3\x00"


_DUCKDB_MAGIC = b"DUCK"  # at bytes 8..12 of a DuckDB file


def read_source(spec: str | Path, *, tables: Iterable[str] | None = None) -> Source:
    """spec → Source: location plus one RawTable per contract table present.

    ``tables`` limits reading to those contract tables (then only the required ones
    among them must be present). Raises SourceError listing every table-level problem.
    """
    problems: list[str] = []
    read: dict[str, RawTable] = {}
    with ExitStack() as stack:
        location, chosen = _chosen_entries(spec, _wanted(tables), stack, problems)
        for table, entry in chosen.items():
            if isinstance(entry, str):  # a problem of the listing, reported in table order
                problems.append(entry)
                continue
            try:
                read[table] = entry.read(table, entry.origin)
            except _Unreadable as exc:
                problems.append(str(exc))
            except OSError as exc:  # e.g. no permission to read the file
                problems.append(f"{entry.origin} cannot be read: {exc.strerror or exc}")
    if problems:  # raised outside any except block: no chained driver error
        raise SourceError(problems)
    return Source(location, read)


def parquet_tables(spec: str | Path, *, tables: Iterable[str] | None = None) -> tuple[str, dict[str, ParquetTable]] | None:
    """spec → (location, one :class:`ParquetTable` per contract table present) when every table the
    source holds is Parquet (a file, or a folder of part files); None for any other source. Nothing
    but the files' footers is read. Raises SourceError for the problems :func:`read_source` reports
    before reading (a required table missing, a table given twice ...)."""
    # a database, a database file or a workbook is not Parquet: known without listing it (which
    # would connect to the database or open the workbook a second time, before read_source)
    if isinstance(spec, str) and "://" in spec:
        return None
    folder = Path(spec).expanduser()
    if not folder.is_dir() or any(p.name.lower() == WORKBOOK for p in folder.iterdir()):
        return None
    problems: list[str] = []
    with ExitStack() as stack:
        location, chosen = _chosen_entries(spec, _wanted(tables), stack, problems)
    problems += [entry for entry in chosen.values() if isinstance(entry, str)]
    if problems:
        raise SourceError(problems)
    if not all(entry.parquet for entry in chosen.values()):
        return None
    return location, {t: ParquetTable(t, e.origin, e.parquet) for t, e in chosen.items()}


def _chosen_entries(
    spec: str | Path, wanted: list[str], stack: ExitStack, problems: list[str]
) -> tuple[str, dict[str, _Entry | str]]:
    """(location, table → its one entry, or what is wrong with it: given twice, or required and
    missing); a source that cannot be used at all adds to ``problems``."""
    try:
        listing = _list_source(spec, wanted, stack, problems)
    except _Unreadable as exc:  # the source as a whole cannot be used
        problems.append(str(exc))
        return str(spec), {}
    except OSError as exc:  # e.g. a folder we may not list
        problems.append(f"{spec} cannot be read: {exc.strerror or exc}")
        return str(spec), {}
    return listing.location, _choose(listing, wanted)


def _list_source(spec: str | Path, wanted: list[str], stack: ExitStack, problems: list[str]) -> _Listing:
    if isinstance(spec, str) and "://" in spec:
        url = _parse_url(spec)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            spec = url.database  # a SQLite file: read it like one given by path (read-only)
        else:
            return _list_url(spec, url, wanted, stack)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _list_folder(path, wanted, stack, problems)
    if not path.exists():
        raise _Unreadable(
            f"data source {path} does not exist; give a folder of table files, "
            "a DuckDB or SQLite file, or a database URL"
        )
    with open(path, "rb") as f:
        head = f.read(16)
    if head == _SQLITE_MAGIC:
        uri = path.resolve().as_uri() + "?mode=ro"
        engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
        return _list_engine(engine, str(path), wanted, stack, [], "check that it is a valid SQLite database")
    if head[8:12] == _DUCKDB_MAGIC:
        return _list_duckdb(path, wanted, stack)
    raise _Unreadable(
        f"{path} is neither a folder nor a DuckDB or SQLite database file; "
        "give the folder that holds the table files"
    )
