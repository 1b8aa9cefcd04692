"""Validation of a PostgreSQL source inside the server: the results of
:func:`~channel_analysis.validate.memory.validate_source`, with only the rows that may break a rule
crossing the network.

The tables other tables refer to (sales managers, dealers, events: one row per person, dealer or
event) are read whole and validated as ``validate_source`` does. Each table of many rows (orders,
interactions, service requests, expenses, prospects, event attendance) is judged in two steps:

1. **in PostgreSQL**, one query marks every row *suspect* that may break a rule: a value not
   plainly of its kind (a date not written YYYY-MM-DD within 1900–2100, a number with a thousands
   separator or an exponent, a code with a capital or a space ...), a value rule broken (a sign, an
   allowed set, a multi-column rule), an id shared with another row, a reference to an id that was
   not accepted, an order long before the dealer's signing. The marking errs towards suspicion:
   a row it calls clean breaks no rule (tested against ``validate_source`` on damaged sources).
   The same query counts the rows, and the clean ones per month of the table's date;
2. **in Python**, only the suspect rows are fetched, numbered as a whole read numbers them
   (``source_row``: the row's place in the table's order on disk), and judged by
   ``validate_source``'s own rules (a duplicate id comes back with every row sharing it, so "the
   first row wins" sees them all). The clean rows are accepted without leaving the server.

Rows read, accepted and quarantined, the quarantined rows as read and every reason are those of
``validate_source`` on the same source. A monthly run, whose reports need the accepted rows
themselves, asks for them in files (``accepted_to``): they are streamed from the same snapshot, a
batch at a time, into Parquet files as ``validate_stream.validate_parquet`` writes them. A table this cannot judge in SQL (a view, which has no row
order; a column of a type the rules do not cover, such as ``timestamp with time zone`` or ``json``)
is read whole instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from channel_analysis import schema
from channel_analysis.errors import SourceError
from channel_analysis.sources.engine import ENGINE_COLUMNS, contract_tables, source_tables
from channel_analysis.sources.postgres import Snapshot, in_postgres_snapshot
from channel_analysis.sources.tables import RawTable
from channel_analysis.validate.common import (
    SOURCE_ROW,
    Counted,
    keys_only_quarantined,
    refuse_quarantine,
    table_problems,
)
from channel_analysis.validate.memory import validate_table
from channel_analysis.validate.rules import RULES
from channel_analysis.validate.stream import typed_rows, typed_schema
from channel_analysis.validate.values import FALSE_WORDS, MAX_INTEGER, TRUE_WORDS, YEARS

if TYPE_CHECKING:
    import ibis.expr.types as ir

T = TypeVar("T")
WORK_MEM = "256MB"  # memory for each sort or hash of the validation's queries, in the server

# Tables another table refers to: read whole (their accepted ids are needed to judge references).
REFERENCED = tuple(
    t for t in schema.TABLES if any(ref == t for name in schema.TABLES for ref, _ in schema.references(name).values())
)
# What str.strip() removes (every whitespace character is below U+10000), as a regex class body.
_SPACE = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x10000)) if c.isspace())
_BLANKS = f"E'{_SPACE}'"  # the same characters as a string, for btrim (cheaper than a regex on every cell)
_ISO = (  # what validate parses as a date, in ASCII digits, years within YEARS, real months and hours
    rf"^(19[0-9]{{2}}|20[0-9]{{2}}|{YEARS[1]})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?)?$"
)
assert YEARS[0] == 1900 and YEARS[1] == 2100, "update _ISO with YEARS"
_PLACE = "channel_analysis_row_place"  # a fetched row's place on disk (ctid): its column in the fetch
# the rules between rows, compiled for the server: their table of typed values, its place column, the
# CTE of the suspect rows' places and its column
_TYPED, _PLACE_COLUMN, _BROKEN, _ROW = "channel_analysis_typed", "place", "channel_analysis_broken", '"row"'
# the columns of the tables referred to that the rules read (the ids referred to, the day a dealer signed)
_REFERRED = {table: tuple(dict.fromkeys([*(c for t in schema.TABLES for ref, c in schema.references(t).values()
                                           if ref == table), *(("signed_date",) if table == "dealers" else ())]))
             for table in schema.TABLES}  # fmt: skip
_IBIS = {schema.TEXT: "string", schema.CODE: "string", schema.DATE: "date", schema.TIMESTAMP: "timestamp",
         schema.NUMBER: "float64", schema.INTEGER: "int64", schema.BOOLEAN: "boolean"}  # fmt: skip
_NUMBER = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"
_WHOLE = r"^-?[0-9]{1,17}$"
_BIG = 10**17  # integers from here on are suspect: the float64 validate parses them into may round them to MAX_INTEGER
assert _BIG < MAX_INTEGER

# PostgreSQL type → the family of values it holds; the kinds each family is judged for in SQL
_FAMILY = {
    "text": "text", "character varying": "text", "character": "text", "name": "text",
    "smallint": "int", "integer": "int", "bigint": "int",
    "numeric": "numeric", "real": "float", "double precision": "float",
    "date": "date", "timestamp without time zone": "timestamp",
    "boolean": "bool",
}  # fmt: skip
_JUDGED = {
    schema.TEXT: {"text", "int"},
    schema.CODE: {"text"},
    schema.DATE: {"text", "date", "timestamp"},
    schema.TIMESTAMP: {"text", "date", "timestamp"},
    schema.NUMBER: {"text", "int", "numeric", "float"},
    schema.INTEGER: {"text", "int", "numeric", "float"},
    schema.BOOLEAN: {"text", "bool"},
}
# the Arrow type a whole read gives a column of each family (a column all empty among the fetched
# rows would otherwise come back untyped)
_ARROW = {
    "text": pa.string(), "int": pa.int64(), "numeric": pa.float64(), "float": pa.float64(),
    "date": pa.timestamp("us"), "timestamp": pa.timestamp("us"), "bool": pa.bool_(),
}  # fmt: skip
# Multi-column rules (the schema's @dataframe_check methods), as SQL over the typed values that is
# true when a row breaks the rule. A rule missing here makes its table read whole.
_TABLE_RULES = {
    "terminated_not_before_signed": "{terminated_date} < {signed_date}",
    "closed_not_before_opened": "{closed_at} < {opened_at}",
    "signed_status_matches_stage": "({status} = 'signed') <> ({stage_reached} = 'signed')",
    "closed_date_unless_open": "{status} <> 'open' AND {closed_date} IS NULL",
    "closed_not_before_first_contact": "{closed_date} < {first_contact_date}",
    "dealer_when_signed": "{status} = 'signed' AND {dealer_id} IS NULL",
}


class _NotJudged(Exception):
    """The table cannot be judged in SQL (the reason says why); it is read whole."""


@dataclass
class DatabaseSource(Counted):
    """What :func:`validate_postgres` gives: as ``ValidatedSource``, with the accepted rows of the
    large tables left in the database (``tables`` holds the tables read whole)."""

    location: str
    tables: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    rows_read: dict[str, int]
    judged_in_database: dict[str, str]  # table → how (its catalog name)
    accepted: dict[str, Path] = field(default_factory=dict)  # table → its accepted rows' file, when asked for
    read_whole: dict[str, str] = field(default_factory=dict)  # table → why it was read whole
    origins: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str | None] = field(default_factory=dict)
    _clean_months: dict[str, pd.Series] = field(default_factory=dict, repr=False)  # month → clean rows
    # per table judged in the database: the SQL of its clean rows' typed values, the disk places of
    # its suspect rows, and the fetched rows that were accepted (typed)
    _clean_sql: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict, repr=False)
    _suspect_places: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _fetched_accepted: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def rows_after(self, name: str, cutoff: pd.Timestamp) -> int:
        """Accepted rows of ``name`` dated on or after ``cutoff``, the first day of a month (as
        ``data_quality`` asks: the database counted the clean rows per month)."""
        if name in self.tables:
            return int((self.tables[name][schema.date_column(name)] >= cutoff).sum())
        if cutoff != cutoff.to_period("M").to_timestamp():
            raise ValueError(f"rows_after counts from the first day of a month, not from {cutoff:%Y-%m-%d}")
        months, fetched = self._clean_months[name], self._fetched_accepted[name]
        return int(months[months.index >= cutoff].sum() + (fetched[schema.date_column(name)] >= cutoff).sum())

    def engine_tables(self, url: str, *, snapshot: str | None = None) -> dict[str, ir.Table]:
        """The accepted rows of every table as Ibis tables in the database at ``url`` (typed as
        ``panel.contract_tables`` types them), for the panel and the KPIs to run inside PostgreSQL.

        A table judged in the database is its clean rows, typed by the same SQL that judged them,
        plus the few fetched rows that were accepted; a table read whole is its accepted rows, sent
        back as a temporary table. The clean rows are those not at the suspect rows' places on
        disk, so the tables must be read as the validation saw them: ``snapshot``, the validation's
        exported snapshot (:func:`with_validated_postgres`), makes the connection see exactly that;
        without it the database must not change between validation and this use.
        """
        import ibis

        con = ibis.get_backend(next(iter(source_tables(url).values())))
        if snapshot is not None:
            _join_snapshot(con, snapshot)
        out = {}
        for name in ENGINE_COLUMNS:
            if name in self._clean_sql:
                table, typed = self._clean_sql[name]
                places = self._suspect_places[name]
                listed = ",".join(f'"{place}"' for place in places)  # ctids: "(block,item)", digits only
                outside = f" WHERE t.ctid <> ALL(CAST('{{{listed}}}' AS tid[]))" if places else ""
                columns = ", ".join(f'{sql} AS "{column}"' for column, sql in typed.items() if column in ENGINE_COLUMNS[name])
                clean = contract_tables({name: con.sql(f"SELECT {columns} FROM {table} t{outside}")})[name]
                fetched = self._fetched_accepted[name]
                if len(fetched):
                    clean = clean.union(_temporary(con, name, fetched))
                out[name] = clean
            elif name in self.tables:
                out[name] = _temporary(con, name, self.tables[name])
        return out


def _join_snapshot(con, snapshot: str) -> None:
    """Make the Ibis PostgreSQL backend ``con`` run everything from now on in one transaction that
    sees the exported ``snapshot`` (ibis's own transactions become savepoints inside it)."""
    import psycopg
    from psycopg import sql

    raw = con.con
    raw.autocommit = False
    raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    raw.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))  # the transaction's first statement


def _temporary(con, name: str, accepted: pd.DataFrame) -> ir.Table:
    """Accepted rows of ``name`` (typed frame) → a temporary table of their engine columns in the
    database of ``con`` (gone when the connection closes), typed as ``contract_tables`` types them."""

    kept = [c for c in ENGINE_COLUMNS[name] if c in accepted]
    rows = pa.Table.from_pandas(accepted[kept], preserve_index=False)
    table = con.create_table(f"channel_analysis_accepted_{name}", rows, temp=True)
    return contract_tables({name: table})[name]


def validate_postgres(spec: str, *, strict: bool = False, accepted_to: Path | None = None) -> DatabaseSource:
    """The PostgreSQL database at URL ``spec`` → counts, quarantine and the small tables, as
    ``validate_source(read_source(spec))`` gives them; SourceError when the source is unusable.

    ``accepted_to``: a folder to write every table's accepted rows to, as
    ``validate_stream.validate_parquet`` writes them (``accepted`` names the files). All of it
    happens in one snapshot; a connection lost part-way starts it again on a new one."""
    return in_postgres_snapshot(spec, lambda db: _validated(db, strict, accepted_to))


def with_validated_postgres(spec: str, work: Callable[[DatabaseSource, str], T], *, strict: bool = False) -> T:
    """``work(validated, snapshot)`` for the PostgreSQL database at URL ``spec``, run while the
    validation's snapshot is still open: ``snapshot`` is its exported id, which
    :meth:`DatabaseSource.engine_tables` joins, so that the figures are computed on exactly the
    rows that were judged, whatever is written to the database meanwhile. A connection lost
    part-way starts all of it again on a new snapshot."""

    def validated_then_work(db: Snapshot) -> T:
        validated = _validated(db, strict, None)
        return work(validated, db.query("SELECT pg_export_snapshot()")[0][0])

    return in_postgres_snapshot(spec, validated_then_work)


def _validated(db: Snapshot, strict: bool, accepted_to: Path | None) -> DatabaseSource:
    if db.problems:
        raise SourceError(db.problems)
    # the duplicate ids are found by grouping every row by its id; with the server's default 4 MB
    # per hash that spills to disk in dozens of batches (for this transaction only)
    db.set_local("work_mem", WORK_MEM)
    columns = {t: db.columns(t) for t in db.names}
    problems = table_problems(db.location, {t: (db.origin(t), list(c)) for t, c in columns.items()})
    if problems:
        raise SourceError(problems)
    out = DatabaseSource(db.location, {}, {}, {}, {}, origins={t: db.origin(t) for t in db.names})
    quarantined_keys: dict[str, set] = {}
    plans: dict[str, _Plan] = {}
    for name in schema.TABLES:
        if name not in db.names:
            continue
        plan = None
        if name not in REFERENCED:
            try:
                plan = _Plan(name, db, columns[name], out.tables, quarantined_keys)
            except _NotJudged as why:
                out.read_whole[name] = str(why)
        if plan is None:
            raw = db.read_whole(name)
            good, bad = validate_table(name, raw, out.tables, quarantined_keys)
            out.tables[name], out.rows_read[name] = good, len(raw.frame)
        else:
            good, bad = _judge(plan, out, quarantined_keys)
            plans[name] = plan
        out.quarantine[name] = bad
        out.encodings[name] = None
        quarantined_keys[name] = keys_only_quarantined(name, good, bad)
    if strict:
        refuse_quarantine(out.quarantine)
    if accepted_to is not None:  # in the same snapshot: the rows judged are the rows written
        Path(accepted_to).mkdir(parents=True, exist_ok=True)
        for name in out.rows_read:
            path = Path(accepted_to) / f"{name}.parquet"
            if name in plans:
                _stream_accepted(plans[name], out, path)
            else:
                _write_frame(out.tables[name], path)
            out.accepted[name] = path
    return out


def _stream_accepted(plan: _Plan, out: DatabaseSource, path: Path) -> None:
    """The accepted rows of a table judged in the database → ``path``, in source_row order: its
    clean rows, typed by the SQL that judged them, streamed a batch at a time, with the few fetched
    rows that were accepted put back in their places."""

    name, db = plan.name, plan.db
    fetched = out._fetched_accepted[name]
    target = typed_schema(name, list(fetched.columns))
    columns = [f.name for f in target][1:]
    kinds = schema.columns_of(name)
    # numbers and whole numbers leave the server as float8 and bigint (a numeric would come as a
    # Decimal); float8 of a numeric is its text read by strtod, as Python's float() reads it
    cast = {schema.NUMBER: "double precision", schema.INTEGER: "bigint"}
    values = ", ".join(
        f'CAST({plan.typed[c]} AS {cast[kinds[c].metadata["kind"]]}) AS "{c}"' if kinds[c].metadata["kind"] in cast
        else f'{plan.typed[c]} AS "{c}"'
        for c in columns
    )  # fmt: skip
    places = out._suspect_places[name]
    outside = " WHERE place <> ALL(CAST(:places AS tid[]))" if places else ""
    chosen = ", ".join(f'"{c}"' for c in columns)  # contract names: lower case letters and _
    sql = (
        f"WITH numbered AS (SELECT row_number() OVER (ORDER BY t.ctid) AS {SOURCE_ROW}, t.ctid AS place, {values} "
        f"FROM {db.quoted(name)} t) SELECT {SOURCE_ROW}, {chosen} FROM numbered{outside} ORDER BY {SOURCE_ROW}"
    )
    extra = typed_rows(fetched, target)
    extra_rows = extra.column(SOURCE_ROW).to_numpy()
    with pq.ParquetWriter(path, target) as writer:
        written = 0  # fetched rows written so far (they are in source_row order)
        for batch in db.stream(name, sql, places=places):
            batch = pa.Table.from_arrays(
                [column.cast(field.type) for column, field in zip(batch.columns, target)], schema=target
            )  # fmt: skip
            last = batch.column(SOURCE_ROW)[-1].as_py() if len(batch) else None
            upto = len(extra_rows) if last is None else int(np.searchsorted(extra_rows, last, side="right"))
            if upto > written:
                batch = pa.concat_tables([batch, extra.slice(written, upto - written)]).sort_by(SOURCE_ROW)
                written = upto
            writer.write_table(batch)
        if written < len(extra_rows):
            writer.write_table(extra.slice(written))


def _write_frame(accepted: pd.DataFrame, path: Path) -> None:
    """A table's accepted rows (typed frame, index source_row) → ``path`` as validate_parquet writes them."""

    pq.write_table(typed_rows(accepted, typed_schema(Path(path).stem, list(accepted.columns))), path)


def _judge(plan: _Plan, out: DatabaseSource, quarantined_keys: dict[str, set]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count and mark in the database, fetch the suspect rows, judge them in Python."""
    name, db = plan.name, plan.db
    counted = db.query(plan.counts(), **plan.params)
    rows = sum(r[2] for r in counted)
    suspects = sum(r[2] for r in counted if r[0])
    dated = [r for r in counted if not r[0] and r[1] is not None]  # a clean row of a dated table has its month
    clean = pd.Series([r[2] for r in dated], index=pd.DatetimeIndex([r[1] for r in dated]), dtype="int64")
    some_empty = [any(r[3 + 2 * i] for r in counted) for i in range(len(plan.all_columns))]
    all_empty = [all(r[4 + 2 * i] for r in counted) for i in range(len(plan.all_columns))]
    db.check_memory(name, suspects, len(plan.all_columns))
    raw = db.read_rows(name, plan.suspects(), **plan.params) if suspects else None
    if raw is None:
        raw = RawTable(name, pd.DataFrame(index=pd.Index([], dtype="int64", name="source_row")), db.origin(name))
    places = raw.frame.pop(_PLACE).tolist() if _PLACE in raw.frame else []
    raw = _as_whole_read(raw, plan, some_empty, all_empty)
    good, bad = validate_table(name, raw, out.tables, quarantined_keys)
    out.rows_read[name] = rows
    out.judged_in_database[name] = db.names[name]
    out._clean_sql[name] = (db.quoted(name), plan.typed)
    out._suspect_places[name] = places
    out._fetched_accepted[name] = good
    out._clean_months[name] = clean
    return good, bad


def _as_whole_read(raw: RawTable, plan: _Plan, some_empty: list[bool], all_empty: list[bool]) -> RawTable:
    """The fetched rows with the column types a whole read gives them: pandas types a column by all
    of its values, so an integer column with an empty cell anywhere in the table is float, a boolean
    one object (what the quarantine shows depends on it)."""
    frame = raw.frame
    if frame.columns.empty:  # nothing fetched: the table's columns, no rows
        frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in plan.all_columns}, index=frame.index)
    for column, family, some, every in zip(plan.all_columns, plan.families, some_empty, all_empty):
        values = frame[column]
        if family is None or every:
            continue
        if values.isna().all() and values.dtype == object:  # untyped: Arrow saw only empty cells
            values = pd.Series(pa.array(values.tolist(), _ARROW[family]).to_pandas(), index=frame.index)
        if some and family == "int" and values.dtype.kind == "i":
            values = values.astype("float64")
        elif some and family == "bool" and values.dtype == bool:
            values = values.astype(object)
        frame[column] = values
    return RawTable(raw.name, frame, raw.origin)


class _Plan:
    """The SQL that marks the suspect rows of one table, built from the schema and the types of the
    table's columns in the database."""

    def __init__(self, name: str, db: Snapshot, columns: dict[str, tuple[str, str]], accepted: dict[str, pd.DataFrame],
                 quarantined_keys: dict[str, set]):  # fmt: skip
        if db.names[name] in db.views:
            raise _NotJudged("it is a view, whose rows have no order to number them by")
        self.name, self.db = name, db
        self.all_columns = list(columns)
        self.families = [_FAMILY.get(kind) for _, kind in columns.values()]
        self.params: dict[str, object] = {}
        contract = schema.columns_of(name)
        self.column: dict[str, str] = {}  # contract column → its SQL
        self.typed: dict[str, str] = {}  # contract column → its typed value, NULL when empty or suspect
        suspect: list[str] = []
        for col_name, col in contract.items():
            if col_name not in columns:
                continue
            catalog, kind = columns[col_name]
            family, c = _FAMILY.get(kind), "t." + db.conn.dialect.identifier_preparer.quote_identifier(catalog)
            if family not in _JUDGED[col.metadata["kind"]]:
                raise _NotJudged(f"its column {catalog} is of type {kind}, which the rules for "
                                 f"{col.metadata['kind']} values do not cover in the database")  # fmt: skip
            empty, valid, typed = _value(col.metadata["kind"], family, c)
            allowed = [ch.statistics["allowed_values"] for ch in col.checks if ch.name == "isin"]
            if allowed:  # codes are matched exactly: a value in the set needs no trimming
                valid = f"{c} IN ({', '.join(_literal(v) for v in allowed[0])})"
            # valid is safe to evaluate on any value; the typed value only where valid (a cast of
            # text that is no number would fail the query)
            guarded = f"(CASE WHEN {valid} THEN {typed} END)"
            broken = [_broken(check, guarded, col_name) for check in col.checks if check.name != "isin"]
            required = "false" if col.nullable else "true"
            wrong = " OR ".join([f"NOT ({valid})", *broken])
            suspect.append(f"CASE WHEN {empty} THEN {required} ELSE COALESCE({wrong}, true) END")
            self.column[col_name] = c
            self.typed[col_name] = f"(CASE WHEN NOT ({empty}) AND ({valid}) THEN {typed} END)"
        for check in schema.TABLES[name].to_schema().checks:
            rule = _TABLE_RULES.get(check.name)
            if rule is None:
                raise _NotJudged(f"its rule {check.name} has no SQL form")
            try:
                suspect.append(f"COALESCE({rule.format(**self.typed)}, false)")
            except KeyError:
                pass  # an optional column it compares is absent: the rule holds (as in the schema)
        self.ctes, broken = self._between_rows(name, columns, contract, accepted, quarantined_keys)
        if broken:
            suspect.append(f"CAST(t.ctid AS text) IN (SELECT {_ROW} FROM {broken})")
        self.suspect = " OR ".join(f"({s})" for s in suspect) or "false"
        dated = schema.date_column(name)
        self.month = f"CAST(date_trunc('month', {self.typed[dated]}) AS date)" if dated in self.typed else "CAST(NULL AS date)"
        self.quoted_all = [
            "t." + db.conn.dialect.identifier_preparer.quote_identifier(catalog) for catalog, _ in columns.values()
        ]

    def _between_rows(self, name: str, columns: dict[str, tuple[str, str]], contract: dict,
                      accepted: dict[str, pd.DataFrame], quarantined_keys: dict[str, set]) -> tuple[str, str | None]:  # fmt: skip
        """The rules between rows of the table (:mod:`.rules`), compiled for PostgreSQL over its typed
        values: (the CTEs they read, the name of the one listing the suspect rows' places; None when
        no rule applies). The other tables they read (the accepted rows of the tables referred to,
        the ids left only in their quarantine) travel as array parameters."""
        rules = [r for r in RULES[name] if set(r.reads) <= set(self.typed)
                 and all(o.removesuffix(".quarantined") in accepted for o in r.reads_tables)]  # fmt: skip
        if not rules:
            return "", None
        read = sorted({c for r in rules for c in r.reads})
        kinds = {c: _IBIS[contract[c].metadata["kind"]] for c in read}
        values = ", ".join(f'{self.typed[c]} AS "{c}"' for c in read)
        ctes = [f"{_TYPED} AS (SELECT CAST(t.ctid AS text) AS {_PLACE_COLUMN}, {values} FROM {self.db.quoted(name)} t)"]
        others = {}
        for other in sorted({o for r in rules for o in r.reads_tables}):
            ref = other.removesuffix(".quarantined")
            cte = "ref_" + other.replace(".", "_")
            if other.endswith(".quarantined"):
                self.params[cte] = sorted(str(v) for v in quarantined_keys.get(ref, set()))
                ctes.append(f"{cte} AS (SELECT unnest(CAST(:{cte} AS text[])) AS id)")
                others[other] = ibis.table({"id": "string"}, name=cte)
                continue
            frame, shown = accepted[ref], {}
            for column in [c for c in schema.columns_of(ref) if c in frame and c in _REFERRED.get(ref, ())]:
                kind = schema.columns_of(ref)[column].metadata["kind"]
                if kind in (schema.TEXT, schema.CODE):
                    self.params[f"{cte}_{column}"] = frame[column].astype(str).tolist()
                    shown[column] = ("string", f"unnest(CAST(:{cte}_{column} AS text[]))")
                elif kind == schema.DATE:
                    self.params[f"{cte}_{column}"] = list(frame[column].dt.date)
                    shown[column] = ("date", f"unnest(CAST(:{cte}_{column} AS date[]))")
            selected = ", ".join(f'{sql} AS "{c}"' for c, (_, sql) in shown.items())
            ctes.append(f"{cte} AS (SELECT {selected})")
            others[other] = ibis.table({c: kind for c, (kind, _) in shown.items()}, name=cte)
        typed = ibis.table({_PLACE_COLUMN: "string", **kinds}, name=_TYPED)
        found = [rule.suspects(typed, others, _PLACE_COLUMN) for rule in rules]
        union = found[0]
        for more in found[1:]:
            union = union.union(more)
        ctes.append(f"{_BROKEN} AS ({ibis.to_sql(union, dialect='postgres')})")
        return "WITH " + ", ".join(ctes) + " ", _BROKEN

    def counts(self) -> str:
        """(suspect, month of the row's date, rows, then per column: some empty, all empty), a row
        per (suspect, month). Grouped by the mark itself: a mark used twice (a key and a filter)
        would be computed twice per row, duplicate ids included."""
        empties = "".join(f", {c} IS NULL AS e{i}" for i, c in enumerate(self.quoted_all))
        aggregates = "".join(f", bool_or(e{i}), bool_and(e{i})" for i in range(len(self.quoted_all)))
        return (
            f"{self._with('marked')}marked AS (SELECT ({self.suspect}) AS suspect, {self.month} AS month{empties} "
            f"FROM {self.db.quoted(self.name)} t) "
            f"SELECT suspect, month, count(*){aggregates} FROM marked GROUP BY 1, 2"
        )

    def _with(self, name: str) -> str:
        """``WITH <the rules' CTEs>, `` before the CTE ``name`` (``WITH `` alone when there are none)."""
        return f"{self.ctes[:-1]}, " if self.ctes else "WITH "

    def suspects(self) -> str:
        """The suspect rows as stored, after their source_row (their place in the table's disk order)."""
        table = self.db.quoted(self.name)
        return (
            f"{self._with('marked')}marked AS (SELECT t.ctid AS row_id, row_number() OVER (ORDER BY t.ctid) AS "
            f"source_row, ({self.suspect}) AS suspect FROM {table} t) "
            f"SELECT m.source_row, CAST(t.ctid AS text) AS {_PLACE}, t.* FROM marked m JOIN {table} t ON t.ctid = m.row_id "
            "WHERE m.suspect ORDER BY m.source_row"
        )


def _value(kind: str, family: str, c: str) -> tuple[str, str, str]:
    """(SQL true when the value is empty, true when it is plainly of ``kind``, its typed value) for
    column ``c`` of ``family``. "Plainly" is narrower than what validate accepts: what falls
    outside is fetched and judged there."""
    empty = f"({c} IS NULL OR btrim({c}, {_BLANKS}) = '')" if family == "text" else f"{c} IS NULL"
    if kind in (schema.TEXT, schema.CODE):
        trimmed = f"btrim({c}, {_BLANKS})" if family == "text" else f"CAST({c} AS text)"
        return empty, "true", trimmed
    if kind in (schema.DATE, schema.TIMESTAMP):
        target = "date" if kind == schema.DATE else "timestamp"
        if family != "text":
            return empty, f"extract(year FROM {c}) BETWEEN {YEARS[0]} AND {YEARS[1]}", f"CAST({c} AS {target})"
        last_day = f"extract(day FROM make_date(CAST(substr({c}, 1, 4) AS int), CAST(substr({c}, 6, 2) AS int), 1) + interval '1 month - 1 day')"
        valid = f"CASE WHEN {c} ~ '{_ISO}' THEN CAST(substr({c}, 9, 2) AS int) <= {last_day} ELSE false END"
        return empty, valid, f"CAST(CAST({c} AS timestamp) AS {target})"
    if kind in (schema.NUMBER, schema.INTEGER):
        if family == "text":
            return empty, f"{c} ~ '{_NUMBER if kind == schema.NUMBER else _WHOLE}'", f"CAST({c} AS numeric)"
        valid = "true" if family == "int" else f"({c} = 0 OR abs({c}) BETWEEN 1e-300 AND 1e300)"
        if kind == schema.INTEGER:
            valid += f" AND abs(CAST({c} AS numeric)) < {_BIG}" + ("" if family == "int" else f" AND {c} = trunc({c})")
        return empty, valid, c
    words = sorted(TRUE_WORDS | FALSE_WORDS)
    if family == "text":
        return empty, f"{c} IN ({', '.join(map(_literal, words))})", f"({c} IN ({', '.join(map(_literal, sorted(TRUE_WORDS)))}))"
    return empty, "true", c


def _broken(check, typed: str, column: str) -> str:
    """SQL true when ``typed`` breaks the pandera field ``check``."""
    stats = check.statistics
    if check.name == "not_equal_to":
        return f"{typed} = {_literal(stats['value'])}"
    if check.name == "greater_than":
        return f"{typed} <= {_literal(stats['min_value'])}"
    if check.name == "greater_than_or_equal_to":
        return f"{typed} < {_literal(stats['min_value'])}"
    if check.name == "in_range":
        low = ">=" if stats.get("include_min", True) else ">"
        high = "<=" if stats.get("include_max", True) else "<"
        return f"NOT ({typed} {low} {_literal(stats['min_value'])} AND {typed} {high} {_literal(stats['max_value'])})"
    raise _NotJudged(f"the rule {check.name} of its column {column} has no SQL form")


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value):
        return repr(float(value)) if isinstance(value, (float, np.floating)) else str(int(value))
    raise _NotJudged(f"the value {value!r} has no SQL form")
