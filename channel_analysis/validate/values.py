"""The rules a row is judged by alone: every value parsed by its contract kind (ISO dates,
numbers, whole numbers, booleans, trimmed text), then the schema's value rules (allowed
sets, signs, ranges, the multi-column rules), each broken rule a reason in words.

Rows may come a slice at a time: the rules between rows (:mod:`.rules`) come after.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import numpy as np
import pandas as pd
import pandera.pandas as pa

from channel_analysis import schema

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$")


TRUE_WORDS = {"true", "t", "yes", "y", "1"}


FALSE_WORDS = {"false", "f", "no", "n", "0"}


# Dates outside these years are typing errors (0026 for 2026, 9999 as "never").
YEARS = (1900, 2100)


MAX_INTEGER = 10**18  # whole numbers have at most 18 digits


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


def row_rules(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, _Reasons]:
    """The rules each row is judged by alone: raw rows → (typed rows, their reasons so far). Rows
    may come a slice at a time (the rules between rows come after)."""
    header_again = _repeated_header(frame)
    typed, reasons = _parse_table(name, frame)
    reasons.replace(header_again, "repeated header row")
    _value_rules(name, typed, reasons)
    return typed, reasons
