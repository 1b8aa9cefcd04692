"""Raw tables → validated tables + quarantine, in memory, exactly as the contract's "Bad input".

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
from dataclasses import dataclass, field
import duckdb
import numpy as np
import pandas as pd
from channel_analysis import schema
from channel_analysis.config import ORDER_BEFORE_SIGNING_DAYS
from channel_analysis.errors import SourceError
from channel_analysis.sources.tables import RawTable, Source
from channel_analysis.validate.common import Counted, REASON, SOURCE_ROW, keys_only_quarantined, refuse_quarantine, table_problems
from channel_analysis.validate.values import _Reasons, row_rules


_MANY_ROWS = 1_000_000  # from here on, DuckDB checks that ids are distinct


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
