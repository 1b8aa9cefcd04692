"""Shared by the tests: damage."""

from __future__ import annotations

import io as _io

import pandas as pd
from hypothesis import strategies as st

from channel_analysis.sources.tables import RawTable, Source
from helpers.mini_source import BASE

# Values that break one rule or another, and some that are fine.
NASTY = ["", " ", "0", "-1", "abc", "2024-02-30", "05/03/2024", "NA", "null", "D001", "D999", "00123", "SM9",
         "EV1", "O1", "phone", "PHONE", "true", "maybe", "1e309", "=1+1", "<script>", "山东", "2024-01-01", "9999-12-31",
         "1e20", "2024-01-01 25:00", "\x00", " D001 "]


def _raw(table: str, text: str) -> RawTable:
    frame = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="source_row")
    return RawTable(name=table, frame=frame, origin=f"{table}.csv")


@st.composite
def damaged_sources(draw):
    tables = {t: _raw(t, text) for t, text in BASE.items()}
    for _ in range(draw(st.integers(0, 12))):
        table = draw(st.sampled_from(sorted(tables)))
        frame = tables[table].frame
        if draw(st.booleans()) and len(frame):
            # copy a row (duplicates, repeated references)
            row = frame.iloc[[draw(st.integers(0, len(frame) - 1))]]
            frame = pd.concat([frame, row])
        if len(frame):
            r = draw(st.integers(0, len(frame) - 1))
            c = draw(st.sampled_from(list(frame.columns)))
            frame = frame.copy()
            frame.iloc[r, frame.columns.get_loc(c)] = draw(st.sampled_from(NASTY))
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="source_row")
        tables[table] = RawTable(name=table, frame=frame, origin=f"{table}.csv")
    return Source(location="memory", tables=tables)
