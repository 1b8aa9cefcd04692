"""Raw tables → validated tables + quarantine, exactly as the contract's "Bad input".

The whole source is checked in one pass:

1. table level (a required table or column is missing): every problem is
   collected and raised as one :class:`SourceError` (exit status 2);
2. row level, per table in reference order: values are parsed by their
   contract kind, then pandera checks the value rules (allowed sets, signs,
   ranges, multi-column rules), then ids must be unique (the first row wins)
   and references must point at an accepted row of the referenced table.

A row that breaks any rule goes to the table's quarantine with its
``source_row`` and every reason found, joined by ``"; "``. For every table
rows read = rows accepted + rows quarantined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from channel_analysis import schema
from channel_analysis.config import ORDER_BEFORE_SIGNING_DAYS
from channel_analysis.errors import SourceError, StrictModeError
from channel_analysis.io import RawTable, Source

QUALITY_COLUMNS = ["table", "rows_read", "rows_accepted", "rows_quarantined", "rows_after_month"]
SOURCE_ROW, REASON = "source_row", "reason"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$")
TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}
# Dates outside these years are typing errors (0026 for 2026, 9999 as "never").
YEARS = (1900, 2100)
_MANY_ROWS = 1_000_000  # from here on, DuckDB checks that ids are distinct
MAX_INTEGER = 10**18  # whole numbers have at most 18 digits


class Counted:
    """Counts shared by every validated source (``quarantine``, ``rows_read`` by table)."""

    quarantine: dict[str, pd.DataFrame]
    rows_read: dict[str, int]

    @property
    def quarantined_total(self) -> int:
        return sum(len(q) for q in self.quarantine.values())

    def accepted_rows(self, name: str) -> int:
        return self.rows_read[name] - len(self.quarantine[name])


@dataclass
class ValidatedSource(Counted):
    """What validation gives the rest of the pipeline."""

    location: str
    tables: dict[str, pd.DataFrame]  # accepted rows, typed; index source_row
    quarantine: dict[str, pd.DataFrame]  # quarantined rows as read + source_row + reason
    rows_read: dict[str, int]
    encodings: dict[str, str | None] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def rows_after(self, name: str, cutoff: pd.Timestamp) -> int:
        """Accepted rows of ``name`` dated on or after ``cutoff`` by the table's own date."""
        return int((self.tables[name][schema.date_column(name)] >= cutoff).sum())


# --------------------------------------------------------------------------- table level


def table_problems(location: str, columns: dict[str, tuple[str, list]]) -> list[str]:
    """Every table-level problem of a source: ``columns`` is table → (origin, its column names)."""
    problems = []
    for name in schema.REQUIRED_TABLES:
        if name not in columns:
            problems.append(
                f"table '{name}' is missing from {location}: it is required; "
                f"add {name}.csv (or .parquet/.xlsx, or a table named {name})"
            )
    for name, (origin, names) in columns.items():
        missing = [c for c in schema.required_columns(name) if c not in names]
        for col in missing:
            found = ", ".join(map(str, names)) or "no columns"
            problems.append(
                f"{origin}: column '{col}' of table '{name}' is missing (found: {found}); "
                f"add it or rename the matching column to '{col}'"
            )
    return problems


# --------------------------------------------------------------------------- parsing


def _is_text_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype) and s.dtype != object


def _to_text(s: pd.Series) -> pd.Series:
    """Any column → trimmed text, missing as NA. Whole floats (Excel ids) lose their '.0'.

    A text column that needs no trimming and has no empty value comes back sharing the
    input's memory: for a large clean table, typed text costs no second copy.
    """
    if _is_text_dtype(s):
        s = s.astype("str")
        trimmed = s.str.strip()
        # trimming only removes characters: same lengths, nothing trimmed
        out = trimmed if (trimmed.str.len().fillna(-1) != s.str.len().fillna(-1)).any() else s
    elif pd.api.types.is_float_dtype(s.dtype):
        out = s.map(lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else repr(v)))
    else:
        out = s.map(_cell_text)
    out = out.astype("str")
    empty = out == ""
    return out.where(~empty, None) if empty.any() else out


def _cell_text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (datetime, pd.Timestamp)):
        return v.isoformat(sep=" ")
    return str(v).strip()


def _parse_dates(s: pd.Series, *, keep_time: bool) -> tuple[pd.Series, pd.Series]:
    """→ (datetime64 series, bad mask). Native datetimes pass; text must be ISO 8601."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        parsed = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        bad = pd.Series(False, index=s.index)
    else:
        native = (
            pd.Series(False, index=s.index)  # text (CSV): no per-cell check needed
            if _is_text_dtype(s)
            else s.map(lambda v: isinstance(v, (datetime, date, pd.Timestamp)))
        )
        text = _to_text(s.where(~native, None) if native.any() else s)
        iso = text.str.fullmatch(_ISO_DATE.pattern).fillna(False).astype(bool)
        parsed = pd.to_datetime(text if iso.all() else text.where(iso), format="ISO8601", errors="coerce")
        if native.any():
            parsed = parsed.where(~native, pd.to_datetime(s.where(native), errors="coerce"))
        bad = text.notna() & parsed.isna()
    parsed = parsed.astype("datetime64[us]")
    years = parsed.dt.year
    bad |= parsed.notna() & ((years < YEARS[0]) | (years > YEARS[1]))
    if bad.any():  # `where` and `normalize` copy: only when they change something
        parsed = parsed.where(~bad)
    if not keep_time:
        normalized = parsed.dt.normalize()
        parsed = parsed if normalized.equals(parsed) else normalized
    return parsed, bad


def _parse_numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(s.dtype):
        return pd.Series(np.nan, index=s.index), s.notna()
    if pd.api.types.is_numeric_dtype(s.dtype):
        parsed = s.astype("float64")
        given = s.notna()
    else:
        text = _to_text(s)
        given = text.notna()
        parsed = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = given & ~np.isfinite(parsed.fillna(0.0)) | given & parsed.isna()
    return (parsed.where(~bad) if bad.any() else parsed), bad


def _parse_integers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    parsed, bad = _parse_numbers(s)
    fractional = parsed.notna() & (parsed != parsed.round())
    # 1e20 is whole but no 64-bit integer (the Int64 cast would raise): beyond 18 digits is a typing error
    bad |= fractional | (parsed.abs() >= MAX_INTEGER)
    return (parsed.where(~bad) if bad.any() else parsed).astype("Int64"), bad


def _parse_booleans(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean"), pd.Series(False, index=s.index)
    text = _to_text(s).str.lower()
    parsed = pd.Series(pd.NA, index=s.index, dtype="boolean")
    parsed[text.isin(TRUE_WORDS)] = True
    parsed[text.isin(FALSE_WORDS)] = False
    bad = text.notna() & parsed.isna()
    return parsed, bad


_KIND_WORD = {
    schema.DATE: f"an ISO date (YYYY-MM-DD) from {YEARS[0]} to {YEARS[1]}",
    schema.TIMESTAMP: f"an ISO date or timestamp (YYYY-MM-DD HH:MM) from {YEARS[0]} to {YEARS[1]}",
    schema.NUMBER: "a number",
    schema.INTEGER: "a whole number (of at most 18 digits)",
    schema.BOOLEAN: "true or false",
}


def _parse_table(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, _Reasons]:
    """Raw frame → (typed frame with the contract's columns, the reasons found so far)."""
    reasons = _Reasons(frame.index)
    typed = pd.DataFrame(index=frame.index)
    for col_name, col in schema.columns_of(name).items():
        if col_name not in frame.columns:
            continue
        raw, kind = frame[col_name], col.metadata["kind"]
        if kind in (schema.TEXT, schema.CODE):
            values, bad = _to_text(raw), pd.Series(False, index=frame.index)
        elif kind in (schema.DATE, schema.TIMESTAMP):
            values, bad = _parse_dates(raw, keep_time=kind == schema.TIMESTAMP)
        elif kind == schema.NUMBER:
            values, bad = _parse_numbers(raw)
        elif kind == schema.INTEGER:
            values, bad = _parse_integers(raw)
        else:
            values, bad = _parse_booleans(raw)
        typed[col_name] = values
        if bad.any():
            shown = raw[bad].map(lambda v: _cell_text(v)[:40])
            reasons.add(bad, col_name + " '" + shown + f"' is not {_KIND_WORD[kind]}")
    extra = [c for c in frame.columns if c not in typed.columns]
    typed = pd.concat([typed, frame[extra]], axis=1) if extra else typed
    return typed, reasons


class _Reasons:
    """The quarantine reasons of a table's rows, in the order found; kept sparse, as a list of
    (row positions, texts) parts, since most rows of a large table have none.

    ``bad``: one bool per row of ``index``, true once the row has a reason.
    """

    def __init__(self, index: pd.Index):
        self.index = index
        self.bad = np.zeros(len(index), dtype=bool)
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, mask: pd.Series, text: str | pd.Series) -> None:
        """Append ``text`` (one string, or a Series with one per row of ``mask``) to the reasons of
        the rows in ``mask`` (a bool Series over some or all of ``index``)."""
        mask = mask.reindex(self.index, fill_value=False).to_numpy(dtype=bool)
        positions = np.flatnonzero(mask)
        if len(positions):
            if isinstance(text, pd.Series):
                texts = text.reindex(self.index[positions]).to_numpy(dtype=object)
            else:
                texts = np.full(len(positions), text, dtype=object)
            self.add_at(positions, texts)

    def add_at(self, positions: np.ndarray, texts: np.ndarray) -> None:
        """Append ``texts[i]`` to the reasons of the row at position ``positions[i]`` (may repeat)."""
        self._parts.append((np.asarray(positions, dtype=np.int64), np.asarray(texts, dtype=object)))
        self.bad[positions] = True

    def replace(self, mask: pd.Series, text: str) -> None:
        """The rows in ``mask`` get ``text`` as their only reason so far."""
        drop = mask.reindex(self.index, fill_value=False).to_numpy(dtype=bool)
        if drop.any():
            self._parts = [(p[~drop[p]], t[~drop[p]]) for p, t in self._parts]
            self.add(mask, text)

    def joined(self) -> pd.Series:
        """→ one string per bad row (index: its label, in row order): its reasons joined by "; "."""
        if not self._parts:
            return pd.Series([], index=self.index[:0], dtype=object)
        positions = np.concatenate([p for p, _ in self._parts])
        texts = np.concatenate([t for _, t in self._parts])
        order = np.argsort(positions, kind="stable")  # stable: a row keeps its reasons' order
        positions, texts = positions[order], texts[order]
        rows, first, group = np.unique(positions, return_index=True, return_inverse=True)
        rank = np.arange(len(positions)) - first[group]  # 0 for a row's first reason, 1 for its second ...
        out = texts[first].copy()
        for k in range(1, int(rank.max()) + 1):
            later = rank == k
            out[group[later]] = out[group[later]] + "; " + texts[later]
        return pd.Series(out, index=self.index[rows], dtype=object)


def _repeated_header(frame: pd.DataFrame) -> pd.Series:
    """Rows that repeat the header (a second file pasted under the first)."""
    named = [c for c in frame.columns if isinstance(c, str)]
    if not named or not all(_is_text_dtype(frame[c]) or frame[c].dtype == object for c in named):
        return pd.Series(False, index=frame.index)
    hits = pd.Series(False, index=frame.index)
    candidates = frame.index
    for c in named:  # each column only over the rows that still look like a header
        column = frame[c] if len(candidates) == len(frame) else frame.loc[candidates, c]
        same = column.astype("str").str.strip().str.lower() == c
        candidates = candidates[same.to_numpy(dtype=bool)]
        if not len(candidates):
            return hits
    hits[candidates] = True
    return hits


# --------------------------------------------------------------------------- value rules


def _rule_text(check: pa.Check) -> str:
    stats = check.statistics
    if check.name == "isin":
        allowed = ", ".join(stats["allowed_values"])
        return f"is not one of {allowed} (codes are matched exactly, in lower case)"
    words = {
        "not_equal_to": "must not be {value}",
        "greater_than": "must be greater than {min_value}",
        "greater_than_or_equal_to": "must not be less than {min_value}",
        "in_range": "must be between {min_value} and {max_value}",
    }
    return words.get(check.name, "breaks " + str(check.name)).format(**stats)


def _check_reason(name: str, failure: pd.Series) -> str:
    """One pandera failure case → the quarantine reason, in words."""
    model, check, column = schema.TABLES[name], failure["check"], failure["column"]
    if check == "not_nullable":
        return f"{column} is empty"
    if failure["schema_context"] == "DataFrameSchema":
        return (getattr(model, check).__doc__ or check).strip()
    rule = schema.columns_of(name)[column].checks[int(failure["check_number"])]
    return f"{column} '{_cell_text(failure['failure_case'])}' {_rule_text(rule)}"


def _value_rules(name: str, typed: pd.DataFrame, reasons: _Reasons) -> None:
    """Run the table's pandera model over the rows that parsed; add a reason per failure."""
    clean = typed[~reasons.bad] if reasons.bad.any() else typed
    if clean.empty:
        return
    try:
        schema.TABLES[name].to_schema().validate(clean, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna()]
        # a multi-column rule reports once per column: keep one line per row and rule (two columns
        # breaking the same kind of check, say two negative numbers, are two lines)
        per_column = cases["schema_context"] != "DataFrameSchema"
        cases = cases.assign(_col=cases["column"].where(per_column, None))
        cases = cases.drop_duplicates(subset=["index", "check", "_col"])
        if cases.empty:
            return
        texts = cases.apply(lambda f: _check_reason(name, f), axis=1)
        reasons.add_at(typed.index.get_indexer(cases["index"]), texts.to_numpy(dtype=object))


# --------------------------------------------------------------------------- keys and references


def _unique_keys(name: str, typed: pd.DataFrame, reasons: _Reasons) -> None:
    key = list(schema.key_of(name))
    if not key or any(k not in typed for k in key):
        return
    given = typed[key].notna().all(axis=1)
    keyed = typed.loc[given, key] if not given.all() else typed[key]
    if len(key) == 1 and _all_distinct(keyed[key[0]]):  # the usual case
        return
    shared = keyed[keyed.duplicated(keep=False)]  # every row of a key given more than once
    if shared.empty:
        return
    dup = shared.duplicated(keep="first")
    first_row = shared.reset_index().groupby(key, sort=False)[typed.index.name or "index"].transform("first")
    first_row.index = shared.index
    label = shared[dup].astype(str).agg(" / ".join, axis=1)
    text = "duplicate " + "+".join(key) + " '" + label + "' (first given in row " + first_row[dup].astype(str) + ")"
    reasons.add(dup, text)


def _all_distinct(values: pd.Series) -> bool:
    """True when no value occurs twice (missing values are not counted).

    Large columns go to DuckDB's parallel hash aggregate: on 20 million ids about 4 s, where
    pandas (Arrow's ``unique``) takes 13 s; small ones stay in pandas (no connection to open).
    """
    if len(values) < _MANY_ROWS:
        return values.is_unique
    with duckdb.connect() as con:
        con.register("ids", pd.DataFrame({"id": values}, copy=False))
        distinct, given = con.execute("SELECT count(DISTINCT id), count(id) FROM ids").fetchone()
    return distinct == given


def _references(
    name: str, typed: pd.DataFrame, reasons: _Reasons, accepted: dict[str, pd.DataFrame], quarantined: dict[str, set]
) -> None:
    for col, (ref_table, ref_col) in schema.references(name).items():
        if col not in typed or ref_table not in accepted:
            continue
        values = typed[col]
        known = values.isna() | values.isin(accepted[ref_table][ref_col])
        if known.all():
            continue
        unknown = values[~known]
        in_quarantine = unknown.isin(quarantined[ref_table])
        shown = f"{col} '" + unknown + "'"
        reasons.add(in_quarantine, shown + f" refers to a quarantined row of {ref_table} (see quarantine/{ref_table}.csv)")
        reasons.add(~in_quarantine, shown + f" is not in {ref_table}")


def _orders_after_signing(typed: pd.DataFrame, reasons: _Reasons, dealers: pd.DataFrame) -> None:
    if dealers.empty:
        return  # every order then refers to an unknown dealer, quarantined for that
    # positional lookup of each order's dealer in numpy: Series.map on millions of rows is
    # several times slower and holds more temporary copies
    where = pd.Index(dealers[schema.Dealers.dealer_id]).get_indexer(typed[schema.Orders.dealer_id])
    signed = dealers[schema.Dealers.signed_date].to_numpy()
    earliest = (signed - np.timedelta64(ORDER_BEFORE_SIGNING_DAYS, "D"))[where]
    early = (where >= 0) & (typed[schema.Orders.order_date].to_numpy() < earliest)  # NaT compares False
    if not early.any():
        return
    text = (
        "order_date " + typed.loc[early, schema.Orders.order_date].dt.strftime("%Y-%m-%d")
        + f" is more than {ORDER_BEFORE_SIGNING_DAYS} days before the dealer's signed_date "
        + pd.Series(signed[where[early]], index=typed.index[early]).dt.strftime("%Y-%m-%d")
    )
    reasons.add(pd.Series(early, index=typed.index), text)


# --------------------------------------------------------------------------- the pass


def validate_source(source: Source, *, strict: bool = False) -> ValidatedSource:
    """Raw source → accepted typed tables, quarantine and counts; raises SourceError when unusable."""
    problems = table_problems(source.location, {n: (t.origin, list(t.frame.columns)) for n, t in source.tables.items()})
    if problems:
        raise SourceError(problems)
    accepted: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    quarantined_keys: dict[str, set] = {}
    rows_read: dict[str, int] = {}
    for name in schema.TABLES:
        raw = source.tables.get(name)
        if raw is None:
            continue
        good, bad = validate_table(name, raw, accepted, quarantined_keys)
        accepted[name], quarantine[name] = good, bad
        rows_read[name] = len(raw.frame) + len(raw.malformed)
        quarantined_keys[name] = keys_only_quarantined(name, good, bad)
    result = ValidatedSource(
        location=source.location,
        tables=accepted,
        quarantine=quarantine,
        rows_read=rows_read,
        encodings={n: t.encoding for n, t in source.tables.items()},
        origins={n: t.origin for n, t in source.tables.items()},
    )
    if strict:
        refuse_quarantine(quarantine)
    return result


def refuse_quarantine(quarantine: dict[str, pd.DataFrame]) -> None:
    """--strict: StrictModeError when any row was quarantined."""
    total = sum(len(q) for q in quarantine.values())
    if total:
        counts = ", ".join(f"{n}: {len(q)}" for n, q in quarantine.items() if len(q))
        raise StrictModeError(
            f"--strict: {total} rows were quarantined ({counts}); "
            "fix them (see quarantine/ from `channel-analysis validate --out DIR`) or run without --strict"
        )


def keys_only_quarantined(name: str, good: pd.DataFrame, bad: pd.DataFrame) -> set:
    """Ids of ``name`` found only among its quarantined rows (a later duplicate of an accepted id is not)."""
    key = schema.key_of(name)
    if len(key) != 1 or key[0] not in bad or bad.empty:
        return set()
    ids = bad[key[0]].dropna()
    return set(ids[~ids.isin(good[key[0]])])


def row_rules(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, _Reasons]:
    """The rules each row is judged by alone: raw rows → (typed rows, their reasons so far). Rows
    may come a slice at a time (the rules between rows come after)."""
    header_again = _repeated_header(frame)
    typed, reasons = _parse_table(name, frame)
    reasons.replace(header_again, "repeated header row")
    _value_rules(name, typed, reasons)
    return typed, reasons


def validate_table(
    name: str, raw: RawTable, accepted: dict[str, pd.DataFrame], quarantined_keys: dict[str, set]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One raw table → (accepted rows typed, quarantined rows as read + reason), judged against the
    accepted rows of the tables it refers to (``accepted``, ``quarantined_keys``: validated before it)."""
    frame = raw.frame
    typed, reasons = row_rules(name, frame)
    _unique_keys(name, typed, reasons)
    _references(name, typed, reasons, accepted, quarantined_keys)
    if name == "orders" and "dealers" in accepted:
        _orders_after_signing(typed, reasons, accepted["dealers"])
    is_bad = reasons.bad
    bad = frame[is_bad].copy()
    bad[REASON] = reasons.joined().to_numpy()
    if len(raw.malformed):
        bad = pd.concat([bad, raw.malformed.rename(columns={"reason": REASON})])
    bad = bad.sort_index()
    bad.index.name = SOURCE_ROW
    good = (typed[~is_bad] if is_bad.any() else typed).rename_axis(SOURCE_ROW)  # no copy of a clean table
    return good, bad


# --------------------------------------------------------------------------- outputs


def data_quality(validated: ValidatedSource, *, month_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Validated source → one row per table given: rows read, accepted, quarantined, after the month.

    ``rows_after_month`` counts accepted rows dated after ``month_end`` by the
    table's own date; it is empty without a month (``validate``).
    """
    rows = []
    for name in validated.rows_read:
        after = pd.NA
        if month_end is not None:
            # a timestamp on the month's last day is still in the month
            cutoff = month_end.normalize() + pd.Timedelta(days=1)
            after = validated.rows_after(name, cutoff) if schema.date_column(name) else 0
        rows.append(
            {
                "table": name,
                "rows_read": validated.rows_read[name],
                "rows_accepted": validated.accepted_rows(name),
                "rows_quarantined": len(validated.quarantine[name]),
                "rows_after_month": after,
            }
        )
    out = pd.DataFrame(rows, columns=QUALITY_COLUMNS)
    out["rows_after_month"] = out["rows_after_month"].astype("Int64")
    return out


def write_quality(validated: ValidatedSource, out_dir: Path, *, month_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Write ``data_quality.csv`` and ``quarantine/<table>.csv`` (tables with quarantined rows)."""
    out_dir = Path(out_dir)
    qdir = out_dir / "quarantine"
    qdir.mkdir(parents=True, exist_ok=True)
    quality = data_quality(validated, month_end=month_end)
    quality.to_csv(out_dir / "data_quality.csv", index=False, lineterminator="\n")
    for name, bad in validated.quarantine.items():
        if len(bad):
            bad.reset_index().to_csv(qdir / f"{name}.csv", index=False, lineterminator="\n")
    return quality
