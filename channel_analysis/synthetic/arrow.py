"""Numpy columns → arrow tables in the contract's column order and types; ids and coded text.

``_ids`` and ``_take`` build the text columns every stage emits; ``_arrow`` turns a stage's
columns into a table of the contract; ``_to_pandas`` gives :class:`World` its frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from channel_analysis import schema


def _ids(prefix: str, first: int, n: int, width: int) -> pa.Array:
    """Text ids (n,): ``prefix`` + running number zero-padded to ``width``, written as bytes."""
    if first + n - 1 >= 10**width:
        raise ValueError(f"{n:,} ids from {first:,} do not fit {width} digits")
    head = prefix.encode("ascii")
    size = len(head) + width
    text = np.empty((n, size), dtype=np.uint8)
    text[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    numbers = np.arange(first, first + n, dtype=np.int64)
    for j in range(width):  # one pass per digit, most significant first
        text[:, len(head) + j] = numbers // 10 ** (width - 1 - j) % 10 + ord("0")
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text)).cast(pa.string())


def _take(values, index: np.ndarray) -> pa.Array:
    """``values[index]`` as an arrow string array, null where ``index`` < 0 (fast for text columns)."""
    return pa.array(np.asarray(values, dtype=str)).take(pa.array(np.maximum(index, 0), mask=index < 0))


def _arrow_type(table: str, column: str) -> pa.DataType:
    kind = schema.kind_of(table, column)
    return {
        schema.DATE: pa.date32(),
        schema.TIMESTAMP: pa.timestamp("s"),
        schema.NUMBER: pa.float64(),
        schema.INTEGER: pa.int64(),
        schema.BOOLEAN: pa.bool_(),
    }.get(kind, pa.string())


def _arrow_schema(table: str) -> pa.Schema:
    return pa.schema([(c, _arrow_type(table, c)) for c in schema.columns_of(table)])


def _arrow(table: str, cols: dict) -> pa.Table:
    """Columns (numpy or arrow arrays) → arrow table in the contract's column order and types."""
    target = _arrow_schema(table)
    arrays = []
    for f in target:
        value = cols[f.name]
        if isinstance(value, np.ndarray) and value.dtype.kind == "M":  # NaT becomes null
            value = value.astype("datetime64[D]" if f.type == pa.date32() else "datetime64[s]")
        if not isinstance(value, pa.Array):
            value = pa.array(value, from_pandas=True)  # NaN becomes null
        arrays.append(value.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=target)


def _empty(table: str) -> pa.Table:
    return _arrow_schema(table).empty_table()


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    mapping = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=mapping.get, date_as_object=False)
