"""Validation of a large Parquet source a slice at a time: the rules and the results of
:func:`~channel_analysis.validate.memory.validate_source`, in bounded memory.

A table of tens of millions of rows is never held whole. Per table, in reference order:

1. the rules a row is judged by alone (types, allowed values, signs, the multi-column rules, a
   repeated header) run on slices of ``batch_rows`` rows with the very functions
   ``validate_source`` uses; the typed rows go to a Parquet file in the work folder, and only the
   bad rows' raw values and reasons are kept;
2. the rules between rows (unique ids, references to accepted rows, orders long before the
   dealer's signing) run in DuckDB over that file, which returns only the rows that break them;
3. the raw values of the rows quarantined by step 2 are read back from the source;
4. the accepted rows are written to ``accepted/<table>.parquet`` in the work folder, for the
   engine (``panel.ibis_tables``) to read.

Rows read, accepted and quarantined, the quarantined rows and every reason are the same as
``validate_source`` gives for the same source (tested).
"""

from __future__ import annotations

import functools
import operator
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from channel_analysis import schema
from channel_analysis.errors import SourceError
from channel_analysis.sources.parquet import ParquetTable
from channel_analysis.sources.read import parquet_tables
from channel_analysis.sources.tables import arrow_to_pandas
from channel_analysis.validate.common import (
    REASON,
    SOURCE_ROW,
    Counted,
    keys_only_quarantined,
    refuse_quarantine,
    table_problems,
)
from channel_analysis.validate.rules import memtable, quarantined_ids, run_rules
from channel_analysis.validate.values import row_rules

STREAM_ROWS = 5_000_000  # a Parquet source of more rows than this is validated a slice at a time
BATCH_ROWS = 1_000_000  # rows judged at a time: about 0.5 GB of raw and typed values
ENGINE_MEMORY = "1GB"  # DuckDB's memory for the rules between rows (it spills beyond)
_ARROW = {
    schema.TEXT: pa.string(),
    schema.CODE: pa.string(),
    schema.DATE: pa.timestamp("us"),
    schema.TIMESTAMP: pa.timestamp("us"),
    schema.NUMBER: pa.float64(),
    schema.INTEGER: pa.int64(),
    schema.BOOLEAN: pa.bool_(),
}


@dataclass
class StreamedSource(Counted):
    """What :func:`validate_parquet` gives: as ``ValidatedSource``, with the accepted rows in
    Parquet files (``source_row`` and the contract's columns, typed) instead of in memory."""

    location: str
    accepted: dict[str, Path]
    quarantine: dict[str, pd.DataFrame]
    rows_read: dict[str, int]
    origins: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str | None] = field(default_factory=dict)  # none: Parquet carries its types

    def rows_after(self, name: str, cutoff: pd.Timestamp) -> int:
        """Accepted rows of ``name`` dated on or after ``cutoff`` (counted by DuckDB in the file)."""
        with duckdb.connect() as con:
            return con.execute(
                f"SELECT count(*) FROM read_parquet('{_path(self.accepted[name])}') "
                f"WHERE {_q(schema.date_column(name))} >= ?",
                [cutoff.to_pydatetime()],
            ).fetchone()[0]


def large_parquet(spec: str | Path) -> tuple[str, dict[str, ParquetTable]] | None:
    """(location, tables) when ``spec`` is a source of Parquet files or folders holding more than
    STREAM_ROWS rows in all (validate it with :func:`validate_parquet`); None otherwise."""
    found = parquet_tables(spec)
    if found is None or sum(t.rows for t in found[1].values()) <= STREAM_ROWS:
        return None
    return found


def validate_parquet(
    location: str,
    tables: dict[str, ParquetTable],
    work: Path,
    *,
    strict: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> StreamedSource:
    """Parquet tables (``io.parquet_tables``) → accepted rows in ``work/accepted/``, quarantine and
    counts; raises SourceError when the source is unusable, as ``validate_source`` does."""
    columns = {name: (t.origin, t.columns) for name, t in tables.items()}
    problems = table_problems(location, columns)
    if problems:
        raise SourceError(problems)
    work = Path(work)
    for sub in ("typed", "accepted", "spill"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    result = StreamedSource(location, {}, {}, {}, {n: t.origin for n, t in tables.items()})
    only_quarantined: dict[str, set] = {}
    with duckdb.connect() as con:
        con.execute(f"SET memory_limit = '{ENGINE_MEMORY}'")
        con.execute("SET temp_directory = ?", [str(work / "spill")])
        con.execute("SET enable_progress_bar = false")
        for name in schema.TABLES:
            if name not in tables:
                continue
            table = tables[name]
            typed_file = work / "typed" / f"{name}.parquet"
            rows, bad_raw, reasons = _row_pass(name, table, columns[name][1], typed_file, batch_rows)
            bad_raw.insert(0, table.no_rows())  # the raw columns and types even when no row is bad
            between = _between_rows(con, name, typed_file, result.accepted, only_quarantined)
            later = between.index.difference(reasons.index)
            if len(later):
                bad_raw.append(_raw_rows(table, later, batch_rows))
            merged = _merged(reasons, between)
            bad = pd.concat(bad_raw) if len(bad_raw) > 1 else bad_raw[0]
            bad = bad.sort_index()
            bad[REASON] = merged.reindex(bad.index).to_numpy(dtype=object)
            bad.index.name = SOURCE_ROW
            accepted = work / "accepted" / f"{name}.parquet"
            _write_accepted(typed_file, accepted, bad.index.to_numpy())
            result.accepted[name] = accepted
            result.quarantine[name] = bad
            result.rows_read[name] = rows
            only_quarantined[name] = _keys_only_quarantined(con, name, accepted, bad)
    shutil.rmtree(work / "typed", ignore_errors=True)
    shutil.rmtree(work / "spill", ignore_errors=True)
    if strict:
        refuse_quarantine(result.quarantine)
    return result


@dataclass(frozen=True)
class OnOrAfter:
    """A condition of :data:`Where` on a date column: on or after ``start``, or, with
    ``or_missing``, no date at all (a request not closed yet)."""

    start: pd.Timestamp
    or_missing: bool = False

    def holds(self, values: pd.Series) -> np.ndarray:
        """The condition on a column of a frame."""
        met = (values >= self.start).fillna(False).to_numpy(dtype=bool)
        return met | values.isna().to_numpy() if self.or_missing else met


Where = list[dict[str, "list | OnOrAfter"]]  # rows meeting, in every column of one of the dicts, its condition
# (one of the values listed, or :class:`OnOrAfter`)


def rows_matching(frame: pd.DataFrame, where: Where) -> np.ndarray:
    """The rows of ``frame`` matching one of ``where``'s alternatives, as a mask: what
    :func:`row_filters` picks in a file, on a frame in memory."""
    match = np.zeros(len(frame), dtype=bool)
    for alternative in where:
        match |= np.logical_and.reduce([
            wanted.holds(frame[c]) if isinstance(wanted, OnOrAfter) else frame[c].isin(wanted).to_numpy()
            for c, wanted in alternative.items()
        ])  # fmt: skip
    return match


def row_filters(name: str, before: pd.Timestamp | None = None, since: pd.Timestamp | None = None,
                where: Where | None = None) -> pc.Expression | None:  # fmt: skip
    """The rows of table ``name`` dated before ``before`` and on or after ``since`` (by the table's
    own date) and matching one of ``where``'s alternatives → an Arrow filter expression, None for
    all rows."""
    date_col = schema.date_column(name)
    dated = [pc.field(date_col) < before.to_pydatetime()] if before is not None and date_col else []
    dated += [pc.field(date_col) >= since.to_pydatetime()] if since is not None and date_col else []

    def condition(column: str, wanted: list | OnOrAfter) -> pc.Expression:
        if isinstance(wanted, OnOrAfter):
            on_or_after = pc.field(column) >= wanted.start.to_pydatetime()
            return on_or_after | pc.field(column).is_null() if wanted.or_missing else on_or_after
        return pc.field(column).isin(list(wanted))

    alternatives = [dated + [condition(c, v) for c, v in alt.items()] for alt in (where or [{}])]
    if not all(alternatives):  # an alternative without conditions: every row
        return None
    return functools.reduce(operator.or_, [functools.reduce(operator.and_, alt) for alt in alternatives])


def read_accepted(
    path: Path, columns: list[str] | None = None, *, before: pd.Timestamp | None = None,
    since: pd.Timestamp | None = None, where: Where | None = None,
) -> pd.DataFrame:  # fmt: skip
    """An accepted file → the frame ``validate_source`` gives for the table (index source_row,
    its types: whole numbers and true/false nullable), or only ``columns`` of it; ``before``,
    ``since``: only rows dated before, or on or after, that day (by the table's own date);
    ``where``: only rows matching one of its alternatives (:data:`Where`)."""
    name = Path(path).stem
    wanted = None if columns is None else [SOURCE_ROW, *[c for c in columns if c != SOURCE_ROW]]
    filters = row_filters(name, before, since, where)
    frame = arrow_to_pandas(pq.read_table(path, columns=wanted, filters=filters))
    kinds = schema.columns_of(name)
    for column in frame.columns:
        kind = kinds[column].metadata["kind"] if column in kinds else None
        if kind == schema.INTEGER:
            frame[column] = frame[column].astype("Int64")
        elif kind == schema.BOOLEAN:
            frame[column] = frame[column].astype("boolean")
    return frame.set_index(SOURCE_ROW)


# --------------------------------------------------------------------------- 1. rows alone


def typed_schema(name: str, present: list[str]) -> pa.Schema:
    """The Arrow schema of table ``name``'s accepted file: source_row, then the contract's columns
    among ``present``, in contract order, typed."""
    contract = schema.columns_of(name)
    fields = [pa.field(SOURCE_ROW, pa.int64())]
    fields += [pa.field(c, _ARROW[col.metadata["kind"]]) for c, col in contract.items() if c in present]
    return pa.schema(fields)


def typed_rows(typed: pd.DataFrame, target: pa.Schema) -> pa.Table:
    """Typed rows of a table (index source_row, as validation gives them) → an Arrow table of
    ``target`` (:func:`typed_schema`): the rows as its accepted file holds them."""
    frame = typed[target.names[1:]].reset_index(names=SOURCE_ROW)
    return pa.Table.from_pandas(frame, schema=target, preserve_index=False)


def _row_pass(
    name: str, table: ParquetTable, present: list[str], typed_file: Path, batch_rows: int
) -> tuple[int, list[pd.DataFrame], pd.Series]:
    """→ (rows read, the bad rows' raw values (frames), their reasons so far (source_row → text)),
    the typed rows written to ``typed_file``."""
    target = typed_schema(name, present)
    rows, bad_raw, reasons = 0, [], []
    with pq.ParquetWriter(typed_file, target) as writer:
        for raw in table.batches(batch_rows):
            rows += len(raw.frame)
            typed, found = row_rules(name, raw.frame)
            writer.write_table(typed_rows(typed, target))
            if found.bad.any():
                bad_raw.append(raw.frame[found.bad])
                reasons.append(found.joined())
    joined = pd.concat(reasons) if reasons else pd.Series([], index=pd.Index([], dtype="int64"), dtype=object)
    return rows, bad_raw, joined


def _raw_rows(table: ParquetTable, wanted: pd.Index, batch_rows: int) -> pd.DataFrame:
    """The raw rows of ``table`` whose source_row is in ``wanted``, read back from the source."""
    wanted = np.sort(wanted.to_numpy())
    parts = []
    for raw in table.batches(batch_rows):
        index = raw.frame.index.to_numpy()
        hit = np.isin(index, wanted[(wanted >= index[0]) & (wanted <= index[-1])]) if len(index) else index
        if len(index) and hit.any():
            parts.append(raw.frame[hit])
    return pd.concat(parts)


# --------------------------------------------------------------------------- 2. rules between rows


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _between_rows(
    con: duckdb.DuckDBPyConnection, name: str, typed_file: Path, accepted: dict[str, Path], only_quarantined: dict[str, set]
) -> pd.DataFrame:
    """The rows breaking a rule between rows (:mod:`.rules`, run by DuckDB over the typed file and the
    accepted files of the tables referred to): index source_row, columns ``rank`` (the order of the
    rule, as ``validate_source`` adds them) and ``text``."""
    engine = ibis.duckdb.from_connection(con)
    with warnings.catch_warnings():
        # ibis 12 calls DuckDB 2.0's deprecated fetch_arrow_table() to read the file's schema
        warnings.filterwarnings("ignore", message=".*fetch_arrow_table", category=DeprecationWarning)
        rows = engine.read_parquet(typed_file)
        others = {}
        for ref, path in accepted.items():
            others[ref] = engine.read_parquet(path)
            others[f"{ref}.quarantined"] = memtable(quarantined_ids(only_quarantined.get(ref, set())))
    found = run_rules(engine, name, rows, others)
    return pd.DataFrame({"rank": found["order"].to_numpy(dtype="int64"), "text": found["reason"].to_numpy(dtype=object)},
                        index=pd.Index(found["row"].to_numpy(dtype="int64"), name=SOURCE_ROW))  # fmt: skip


def _path(path: Path) -> str:
    return str(path).replace("'", "''")


def _merged(alone: pd.Series, between: pd.DataFrame) -> pd.Series:
    """source_row → every reason, those of the row alone first, then those between rows in rule order."""
    parts = pd.concat([
        pd.DataFrame({"rank": -1, "text": alone.to_numpy(dtype=object)}, index=alone.index),
        between,
    ])
    parts = parts.rename_axis(SOURCE_ROW).reset_index().sort_values([SOURCE_ROW, "rank"], kind="stable")
    return parts.groupby(SOURCE_ROW, sort=True)["text"].agg("; ".join)


# --------------------------------------------------------------------------- 4. accepted rows


def _write_accepted(typed_file: Path, accepted: Path, bad_rows: np.ndarray) -> None:
    """The typed rows not quarantined, in source order (the typed file itself when none is)."""
    if not len(bad_rows):
        typed_file.replace(accepted)
        return
    bad_rows = np.sort(bad_rows)
    typed = pq.ParquetFile(typed_file)
    with pq.ParquetWriter(accepted, typed.schema_arrow) as writer:
        for batch in typed.iter_batches(batch_size=BATCH_ROWS):
            rows = batch.column(SOURCE_ROW).to_numpy()
            keep = ~np.isin(rows, bad_rows)
            writer.write_table(pa.Table.from_batches([batch]).filter(pa.array(keep)))
    typed_file.unlink()


def _keys_only_quarantined(con, name: str, accepted: Path, bad: pd.DataFrame) -> set:
    """As validate.keys_only_quarantined, the accepted ids looked up in the accepted file."""
    key = schema.key_of(name)
    if len(key) != 1 or key[0] not in bad or bad.empty:
        return set()
    ids = bad[key[0]].dropna()
    texts = pd.DataFrame({"id": [v for v in ids.unique() if isinstance(v, str)]}, dtype=object)
    if texts.empty:
        return keys_only_quarantined(name, pd.DataFrame({key[0]: pd.Series([], dtype=object)}), bad)
    con.register("_quarantined_ids", texts)
    try:
        also = con.sql(
            f"SELECT DISTINCT a.{_q(key[0])} FROM read_parquet('{_path(accepted)}') a "
            f"SEMI JOIN _quarantined_ids q ON a.{_q(key[0])} = q.id"
        ).df()
    finally:
        con.unregister("_quarantined_ids")
    return keys_only_quarantined(name, also, bad)
