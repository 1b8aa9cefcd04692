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
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
# Dates outside these years are typing errors (0026 for 2026, 9999 as "never").
_YEARS = (1900, 2100)


@dataclass
class ValidatedSource:
    """What validation gives the rest of the pipeline."""

    location: str
    tables: dict[str, pd.DataFrame]  # accepted rows, typed; index source_row
    quarantine: dict[str, pd.DataFrame]  # quarantined rows as read + source_row + reason
    rows_read: dict[str, int]
    encodings: dict[str, str | None] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def quarantined_total(self) -> int:
        return sum(len(q) for q in self.quarantine.values())


# --------------------------------------------------------------------------- table level


def _table_problems(source: Source) -> list[str]:
    problems = []
    for name in schema.REQUIRED_TABLES:
        if name not in source.tables:
            problems.append(
                f"table '{name}' is missing from {source.location}: it is required; "
                f"add {name}.csv (or .parquet/.xlsx, or a table named {name})"
            )
    for name, raw in source.tables.items():
        missing = [c for c in schema.required_columns(name) if c not in raw.frame.columns]
        for col in missing:
            found = ", ".join(map(str, raw.frame.columns)) or "no columns"
            problems.append(
                f"{raw.origin}: column '{col}' of table '{name}' is missing (found: {found}); "
                f"add it or rename the matching column to '{col}'"
            )
    return problems


# --------------------------------------------------------------------------- parsing


def _is_text_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype) and s.dtype != object


def _to_text(s: pd.Series) -> pd.Series:
    """Any column → trimmed text, missing as NA. Whole floats (Excel ids) lose their '.0'."""
    if _is_text_dtype(s):
        out = s.str.strip()
    elif pd.api.types.is_float_dtype(s.dtype):
        out = s.map(lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else repr(v)))
    else:
        out = s.map(_cell_text)
    out = out.astype("str")
    return out.where(out != "", None)


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
        native = s.map(lambda v: isinstance(v, (datetime, date, pd.Timestamp)))
        text = _to_text(s.where(~native, None))
        iso = text.str.fullmatch(_ISO_DATE.pattern).fillna(False).astype(bool)
        parsed = pd.to_datetime(text.where(iso), format="ISO8601", errors="coerce")
        if native.any():
            parsed = parsed.where(~native, pd.to_datetime(s.where(native), errors="coerce"))
        bad = text.notna() & parsed.isna()
    parsed = parsed.astype("datetime64[us]")
    years = parsed.dt.year
    bad |= parsed.notna() & ((years < _YEARS[0]) | (years > _YEARS[1]))
    parsed = parsed.where(~bad)
    if not keep_time:
        parsed = parsed.dt.normalize()
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
    return parsed.where(~bad), bad


def _parse_integers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    parsed, bad = _parse_numbers(s)
    fractional = parsed.notna() & (parsed != parsed.round())
    bad |= fractional
    return parsed.where(~bad).astype("Int64"), bad


def _parse_booleans(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean"), pd.Series(False, index=s.index)
    text = _to_text(s).str.lower()
    parsed = pd.Series(pd.NA, index=s.index, dtype="boolean")
    parsed[text.isin(_TRUE)] = True
    parsed[text.isin(_FALSE)] = False
    bad = text.notna() & parsed.isna()
    return parsed, bad


_KIND_WORD = {
    schema.DATE: "an ISO date (YYYY-MM-DD)",
    schema.TIMESTAMP: "an ISO date or timestamp (YYYY-MM-DD HH:MM)",
    schema.NUMBER: "a number",
    schema.INTEGER: "a whole number",
    schema.BOOLEAN: "true or false",
}


def _parse_table(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Raw frame → (typed frame with the contract's columns, reasons per row: list of str)."""
    reasons = pd.Series([[] for _ in range(len(frame))], index=frame.index, dtype=object)
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
            _add(reasons, bad, col_name + " '" + shown + f"' is not {_KIND_WORD[kind]}")
    extra = [c for c in frame.columns if c not in typed.columns]
    typed = pd.concat([typed, frame[extra]], axis=1) if extra else typed
    return typed, reasons


def _add(reasons: pd.Series, mask: pd.Series, text: str | pd.Series) -> None:
    """Append ``text`` (one string, or one per row) to the reasons of the rows in ``mask``."""
    mask = mask.reindex(reasons.index, fill_value=False).astype(bool)
    if not mask.any():
        return
    texts = text.reindex(reasons.index)[mask] if isinstance(text, pd.Series) else pd.Series(text, index=reasons.index[mask])
    for idx, t in texts.items():
        reasons.at[idx].append(t)


def _repeated_header(frame: pd.DataFrame) -> pd.Series:
    """Rows that repeat the header (a second file pasted under the first)."""
    named = [c for c in frame.columns if isinstance(c, str)]
    if not named or not all(_is_text_dtype(frame[c]) or frame[c].dtype == object for c in named):
        return pd.Series(False, index=frame.index)
    hits = pd.Series(True, index=frame.index)
    for c in named:
        hits &= frame[c].astype("str").str.strip().str.lower() == c
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


def _value_rules(name: str, typed: pd.DataFrame, reasons: pd.Series) -> None:
    """Run the table's pandera model over the rows that parsed; add a reason per failure."""
    clean = typed[reasons.map(len) == 0]
    if clean.empty:
        return
    try:
        schema.TABLES[name].to_schema().validate(clean, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna()]
        # a multi-column rule reports once per column: keep one line per row and check
        cases = cases.drop_duplicates(subset=["index", "check"])
        texts = cases.apply(lambda f: _check_reason(name, f), axis=1)
        for idx, text in zip(cases["index"], texts):
            reasons.at[idx].append(text)


# --------------------------------------------------------------------------- keys and references


def _unique_keys(name: str, typed: pd.DataFrame, reasons: pd.Series) -> None:
    key = list(schema.key_of(name))
    if not key or any(k not in typed for k in key):
        return
    given = typed[key].notna().all(axis=1)
    keyed = typed.loc[given, key]
    dup = keyed.duplicated(keep="first")
    if not dup.any():
        return
    first_row = keyed.reset_index().groupby(key, sort=False)[typed.index.name or "index"].transform("first")
    first_row.index = keyed.index
    label = keyed[dup].astype(str).agg(" / ".join, axis=1)
    text = "duplicate " + "+".join(key) + " '" + label + "' (first given in row " + first_row[dup].astype(str) + ")"
    _add(reasons, dup, text)


def _references(
    name: str, typed: pd.DataFrame, reasons: pd.Series, accepted: dict[str, pd.DataFrame], quarantined: dict[str, set]
) -> None:
    for col, (ref_table, ref_col) in schema.references(name).items():
        if col not in typed or ref_table not in accepted:
            continue
        values = typed[col]
        known = values.isna() | values.isin(accepted[ref_table][ref_col])
        if known.all():
            continue
        in_quarantine = ~known & values.isin(quarantined[ref_table])
        _add(reasons, in_quarantine, f"{col} '" + values + f"' refers to a quarantined row of {ref_table} (see quarantine/{ref_table}.csv)")
        _add(reasons, ~known & ~in_quarantine, f"{col} '" + values + f"' is not in {ref_table}")


def _orders_after_signing(typed: pd.DataFrame, reasons: pd.Series, dealers: pd.DataFrame) -> None:
    signed = typed[schema.Orders.dealer_id].map(dealers.set_index(schema.Dealers.dealer_id)[schema.Dealers.signed_date])
    earliest = signed - pd.Timedelta(days=ORDER_BEFORE_SIGNING_DAYS)
    early = typed[schema.Orders.order_date] < earliest
    text = (
        "order_date " + typed[schema.Orders.order_date].dt.strftime("%Y-%m-%d")
        + f" is more than {ORDER_BEFORE_SIGNING_DAYS} days before the dealer's signed_date "
        + signed.dt.strftime("%Y-%m-%d")
    )
    _add(reasons, early.fillna(False), text)


# --------------------------------------------------------------------------- the pass


def validate_source(source: Source, *, strict: bool = False) -> ValidatedSource:
    """Raw source → accepted typed tables, quarantine and counts; raises SourceError when unusable."""
    problems = _table_problems(source)
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
        good, bad = _validate_table(name, raw, accepted, quarantined_keys)
        accepted[name], quarantine[name] = good, bad
        rows_read[name] = len(raw.frame) + len(raw.malformed)
        key = schema.key_of(name)
        quarantined_keys[name] = set(bad[key[0]].dropna()) - set(good[key[0]]) if len(key) == 1 and key[0] in bad else set()
    result = ValidatedSource(
        location=source.location,
        tables=accepted,
        quarantine=quarantine,
        rows_read=rows_read,
        encodings={n: t.encoding for n, t in source.tables.items()},
        origins={n: t.origin for n, t in source.tables.items()},
    )
    if strict and result.quarantined_total:
        counts = ", ".join(f"{n}: {len(q)}" for n, q in quarantine.items() if len(q))
        raise StrictModeError(
            f"--strict: {result.quarantined_total} rows were quarantined ({counts}); "
            "fix them (see quarantine/ from `channel-analysis validate --out DIR`) or run without --strict"
        )
    return result


def _validate_table(
    name: str, raw: RawTable, accepted: dict[str, pd.DataFrame], quarantined_keys: dict[str, set]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = raw.frame
    header_again = _repeated_header(frame)
    typed, reasons = _parse_table(name, frame)
    for idx in header_again[header_again].index:
        reasons.at[idx] = ["repeated header row"]
    _value_rules(name, typed, reasons)
    _unique_keys(name, typed, reasons)
    _references(name, typed, reasons, accepted, quarantined_keys)
    if name == "orders" and "dealers" in accepted:
        _orders_after_signing(typed, reasons, accepted["dealers"])
    is_bad = reasons.map(len) > 0
    bad = frame[is_bad].copy()
    bad[REASON] = reasons[is_bad].map("; ".join)
    if len(raw.malformed):
        bad = pd.concat([bad, raw.malformed.rename(columns={"reason": REASON})])
    bad = bad.sort_index()
    bad.index.name = SOURCE_ROW
    good = typed[~is_bad]
    good.index.name = SOURCE_ROW
    return good, bad


# --------------------------------------------------------------------------- outputs


def data_quality(validated: ValidatedSource, *, month_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Validated source → one row per table given: rows read, accepted, quarantined, after the month.

    ``rows_after_month`` counts accepted rows dated after ``month_end`` by the
    table's own date; it is empty without a month (``validate``).
    """
    rows = []
    for name, good in validated.tables.items():
        after = pd.NA
        date_col = schema.date_column(name)
        if month_end is not None:
            # a timestamp on the month's last day is still in the month
            after = int((good[date_col] >= month_end.normalize() + pd.Timedelta(days=1)).sum()) if date_col else 0
        rows.append(
            {
                "table": name,
                "rows_read": validated.rows_read[name],
                "rows_accepted": len(good),
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
