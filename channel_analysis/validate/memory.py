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

import ibis
import pandas as pd

from channel_analysis import schema
from channel_analysis.errors import SourceError
from channel_analysis.sources.tables import RawTable, Source
from channel_analysis.validate.common import (
    REASON,
    SOURCE_ROW,
    Counted,
    keys_only_quarantined,
    refuse_quarantine,
    table_problems,
)
from channel_analysis.validate.rules import RULES, memtable, quarantined_ids, run_rules
from channel_analysis.validate.values import _Reasons, row_rules


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


def _between_rows(con: ibis.BaseBackend, name: str, typed: pd.DataFrame, reasons: _Reasons,
                  accepted: dict[str, pd.DataFrame], quarantined: dict[str, set]) -> None:  # fmt: skip
    """The rules between rows of table ``name`` (:mod:`.rules`), run on an in-memory DuckDB over the
    typed rows and the accepted rows of the tables referred to; a reason per row that breaks one."""
    rules = [r for r in RULES[name] if set(r.reads) <= set(typed.columns)]
    if not rules:
        return
    read = sorted({c for r in rules for c in r.reads})
    others = {}
    for rule in rules:
        for other in rule.reads_tables:
            ref = other.removesuffix(".quarantined")
            if ref not in accepted or other in others:
                continue
            others[other] = (memtable(quarantined_ids(quarantined.get(ref, set()))) if other.endswith(".quarantined")
                             else memtable(accepted[ref].reset_index(drop=True)))  # fmt: skip
    rows = memtable(typed[read].rename_axis(SOURCE_ROW).reset_index())
    found = run_rules(con, name, rows, others)
    if len(found):
        reasons.add_at(typed.index.get_indexer(found["row"]), found["reason"].to_numpy(dtype=object))


def validate_source(source: Source, *, strict: bool = False) -> ValidatedSource:
    """Raw source → accepted typed tables, quarantine and counts; raises SourceError when unusable."""
    problems = table_problems(source.location, {n: (t.origin, list(t.frame.columns)) for n, t in source.tables.items()})
    if problems:
        raise SourceError(problems)
    accepted: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    quarantined_keys: dict[str, set] = {}
    rows_read: dict[str, int] = {}
    con = ibis.duckdb.connect()  # one in-memory engine for every table's rules between rows
    for name in schema.TABLES:
        raw = source.tables.get(name)
        if raw is None:
            continue
        good, bad = validate_table(name, raw, accepted, quarantined_keys, con=con)
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
    name: str, raw: RawTable, accepted: dict[str, pd.DataFrame], quarantined_keys: dict[str, set], *,
    con: ibis.BaseBackend | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One raw table → (accepted rows typed, quarantined rows as read + reason), judged against the
    accepted rows of the tables it refers to (``accepted``, ``quarantined_keys``: validated before it)."""
    frame = raw.frame
    typed, reasons = row_rules(name, frame)
    _between_rows(ibis.duckdb.connect() if con is None else con, name, typed, reasons, accepted, quarantined_keys)
    is_bad = reasons.bad
    bad = frame[is_bad].copy()
    bad[REASON] = reasons.joined().to_numpy()
    if len(raw.malformed):
        bad = pd.concat([bad, raw.malformed.rename(columns={"reason": REASON})])
    bad = bad.sort_index()
    bad.index.name = SOURCE_ROW
    good = (typed[~is_bad] if is_bad.any() else typed).rename_axis(SOURCE_ROW)  # no copy of a clean table
    return good, bad
