"""Hand-made validated tables for metric tests: rows written in the test, typed as the loader types them."""

from __future__ import annotations

import pandas as pd

from channel_analysis import schema

_DTYPES = {"text": "str", "code": "str", "number": "float64", "integer": "Int64", "boolean": "boolean"}


def frame(table: str, columns: str, rows: list[tuple]) -> pd.DataFrame:
    """A validated-looking table: columns typed as the loader types them, index source_row;
    a missing single-column id is numbered (``O0``, ``O1`` … for orders)."""
    df = pd.DataFrame(rows, columns=columns.split(), dtype=object)
    for name, column in schema.columns_of(table).items():
        if name in df:
            kind = column.metadata["kind"]
            df[name] = pd.to_datetime(df[name]) if kind in ("date", "timestamp") else df[name].astype(_DTYPES[kind])
    key = schema.key_of(table)
    if len(key) == 1 and key[0] not in df:
        df.insert(0, key[0], [f"{table[:1].upper()}{i}" for i in range(len(df))])
    df.index = pd.RangeIndex(1, len(df) + 1, name="source_row")
    return df
