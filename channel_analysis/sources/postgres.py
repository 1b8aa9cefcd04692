"""A PostgreSQL source read inside one snapshot (:class:`Snapshot`): what the validation judges
in the server reads every table as of the same moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from channel_analysis.errors import SourceError
from channel_analysis.sources.database import (
    _DB_ATTEMPTS,
    _connect,
    _database_listing,
    _Lost,
    _lost,
    _parse_url,
    _read_table,
    _reason,
    _tried,
    _url_engine,
)
from channel_analysis.sources.tables import (
    _BATCH,
    RawTable,
    _check_memory,
    _choose,
    _column_names,
    _concat,
    _Entry,
    _from_arrow,
    _rows_to_arrow,
    _Unreadable,
    _wanted,
)

T = TypeVar("T")


def postgres_url(spec: str | Path) -> bool:
    """``spec`` is the URL of a PostgreSQL database (validated inside the server: ``validate_sql``)."""
    if not (isinstance(spec, str) and "://" in spec):
        return False
    try:
        return _parse_url(spec).get_backend_name() == "postgresql"
    except _Unreadable:
        return False  # read_source says what is wrong with it


@dataclass
class Snapshot:
    """A PostgreSQL source open in one read-only snapshot (REPEATABLE READ): every query sees the same
    rows. ``names``: contract table → its catalog name, for the tables given once; ``problems``: tables
    given twice or required and missing, as :func:`read_source` words them."""

    location: str
    conn: sa.Connection
    names: dict[str, str]
    views: set[str]
    problems: list[str]
    secrets: list[str]

    def origin(self, table: str) -> str:
        return f"table {self.names[table]}"

    def quoted(self, table: str) -> str:
        return self.conn.dialect.identifier_preparer.quote_identifier(self.names[table])

    def read_whole(self, table: str) -> RawTable:
        """The table read whole, as :func:`read_source` reads it; SourceError when it cannot be."""
        found = _read_table(self.conn, self.names[table], table, self.location, self.secrets,
                            view=self.names[table] in self.views)  # fmt: skip
        if isinstance(found, _Unreadable):
            raise SourceError([str(found)])
        return found

    def columns(self, table: str) -> dict[str, tuple[str, str]]:
        """Column name as read (trimmed, lower case) → (its catalog name, its type, e.g. ``text``,
        ``numeric``, ``timestamp without time zone``), in table order; SourceError when two names are
        the same once trimmed and lower-cased."""
        rows = self.query(
            "SELECT attname, atttypid::regtype::text FROM pg_attribute "
            "WHERE attrelid = CAST(:name AS regclass) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            name=self.quoted(table),
        )
        try:
            names = _column_names([r[0] for r in rows], self.origin(table))
        except _Unreadable as exc:
            raise SourceError([str(exc)]) from None
        return {n: (r[0], r[1]) for n, r in zip(names, rows)}

    def query(self, sql: str, **params) -> list[tuple]:
        """All rows of ``sql`` (named ``:params``); SourceError naming the source and the reason."""
        try:
            return [tuple(r) for r in self.conn.execute(sa.text(sql), params)]
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed(f"cannot read {self.location}", exc) from None

    def set_local(self, setting: str, value: str) -> None:
        """``SET LOCAL setting = value``: for this snapshot's transaction only."""
        try:
            self.conn.execute(sa.text("SELECT set_config(:setting, :value, true)"), {"setting": setting, "value": value})
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed(f"cannot set {setting} on {self.location}", exc) from None

    def _failed(self, what: str, exc: sa.exc.SQLAlchemyError) -> Exception:
        """The error to raise for ``exc``: :class:`_Lost` when the connection broke (the work is
        tried again, see :func:`in_postgres_snapshot`), else SourceError."""
        reason = _reason(exc, self.secrets)
        if _lost(exc):
            return _Lost(what, f"the connection was lost part-way ({reason}); "
                               "check that the server is up and the network stable, then run again", True)  # fmt: skip
        return SourceError([f"{what}: {reason}"])

    def read_rows(self, table: str, sql: str, **params) -> RawTable:
        """The rows of ``sql``, whose first column is their ``source_row``, as a RawTable of ``table``."""
        try:
            result = self.conn.execute(sa.text(sql), params, execution_options={"yield_per": _BATCH})
            columns = list(result.keys())
            data = _concat([_rows_to_arrow(columns, part) for part in result.partitions(_BATCH)], columns)
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed(f"{self.origin(table)} cannot be read from {self.location}", exc) from None
        rows = data.column(0).to_numpy() if len(data) else np.empty(0, dtype=np.int64)
        raw = _from_arrow(data.drop_columns([columns[0]]), table, self.origin(table))
        raw.frame.index = pd.Index(rows.astype(np.int64), name="source_row")
        return raw

    def stream(self, table: str, sql: str, **params) -> Iterator[pa.Table]:
        """The rows of ``sql`` (named ``:params``) a batch at a time, as Arrow tables; SourceError
        naming ``table``, the source and the reason."""
        try:
            result = self.conn.execute(sa.text(sql), params, execution_options={"yield_per": _BATCH})
            columns = list(result.keys())
            for part in result.partitions(_BATCH):
                yield _rows_to_arrow(columns, part)
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed(f"{self.origin(table)} cannot be read from {self.location}", exc) from None

    def check_memory(self, table: str, rows: int, columns: int) -> None:
        try:
            _check_memory(rows, columns, self.origin(table))
        except _Unreadable as exc:
            raise SourceError([str(exc)]) from None


def in_postgres_snapshot(spec: str, work: Callable[[Snapshot], T], *, tables: Iterable[str] | None = None) -> T:
    """``work(snapshot)`` on a :class:`Snapshot` of the PostgreSQL database at URL ``spec`` (the
    password from the environment), closed after it. When the server cannot be reached, or the
    connection is lost part-way, the whole work is tried again on a new snapshot, as a whole read
    is (what a failed try did must be redone by the next: ``work`` starts afresh); SourceError when
    it cannot be done."""
    engine, location, secrets, hint = _url_engine(_parse_url(spec))

    def attempt() -> T:
        conn, names, views = _connect(engine, location, secrets, hint)
        with conn:
            wanted = _wanted(tables)
            chosen = _choose(_database_listing(location, names, wanted, None), wanted)
            given = {n.strip().lower(): n for n in names}
            return work(Snapshot(
                location=location,
                conn=conn,
                names={t: given[t] for t, e in chosen.items() if isinstance(e, _Entry)},
                views=views,
                problems=[e for e in chosen.values() if isinstance(e, str)],
                secrets=secrets,
            ))  # fmt: skip

    try:
        return _tried(_DB_ATTEMPTS, engine, attempt)
    except _Unreadable as exc:
        raise SourceError([str(exc)]) from None
    finally:
        engine.dispose()
