"""Shared by the tests: planted."""

from __future__ import annotations

import io as _io
from datetime import date

import pandas as pd
import pyarrow as pa

from helpers.mini_source import BASE


def _text_table(text: str) -> pa.Table:
    frame = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
    return pa.table({c: pa.array(frame[c].tolist(), pa.string()) for c in frame.columns})


def _planted() -> dict[str, pa.Table]:
    """BASE with native Parquet types where a writer would use them, and one of every kind of problem."""
    tables = {name: _text_table(text) for name, text in BASE.items()}
    tables["dealers"] = pa.table({
        "dealer_id": ["D001", "D002", "00123", "D004", "D005"],
        "dealer_name": ["山东鲁起", "苏州吊装", "广州起重", "坏经销商", None],
        "region": ["山东", "江苏", "广东", "", "山东"],  # D004: no region, quarantined
        "tier": ["A", "B", "C", "A", None],
        "sales_manager_id": ["SM1", "SM2", None, "SM1", "SM9"],  # SM9: unknown
        "signed_date": pa.array([date(2024, 1, 5), date(2024, 3, 1), date(2024, 6, 1), date(2024, 1, 1), date(2024, 1, 1)]),
        "terminated_date": pa.array([None, None, date(2025, 6, 30), None, None], pa.date32()),
    })
    tables["orders"] = pa.table({
        "order_id": ["O1", "O2", "O3", "O4", "O5", "O2", "O7", "O8", "O9", "O10", "O11"],
        "dealer_id": ["D001", "D001", "D002", "00123", "00123", "D002", "D004", "D999", " D002 ", "D001", "D002"],
        "order_date": pa.array([date(2024, 1, 20), date(2024, 5, 3), date(2024, 2, 15), date(2024, 7, 1),
                                date(2024, 6, 10), date(2024, 8, 1), date(2024, 8, 1), date(2024, 8, 1),
                                date(1850, 1, 1), date(2023, 1, 1), date(2024, 9, 1)]),
        "amount": [1200000.0, 35000.5, 80000.0, -5000.0, 250000.0, 1.0, 2.0, 3.0, 4.0, 0.0, float("inf")],
        "quantity": pa.array([1, 10, 2, 0, 1, 1, 1, 1, 1, -3, None], pa.int64()),
        "product_line": ["crane", "parts", "parts", "parts", "crane", None, "", "x", "x", "x", "x"],
    })
    # O2 given twice (the second in a later part), D004 quarantined, D999 unknown, 1850 out of range,
    # an order long before its dealer's signing with a zero amount and a negative quantity, infinity
    prospects = BASE["prospects"] + "P4,山东,SM1,2024-01-05,signed,lost,2024-01-01,,-1,-2\n"
    tables["prospects"] = _text_table(prospects)  # P4: two rules between columns, two negative numbers
    interactions = _text_table(BASE["interactions"]).to_pylist()
    header = {c: c for c in interactions[0]}
    rows = [*interactions[:2], header, interactions[2], header, {**interactions[0], "kind": "PHONE"}]
    tables["interactions"] = pa.Table.from_pylist(rows)  # a repeated header, twice; an upper-case code
    return tables
