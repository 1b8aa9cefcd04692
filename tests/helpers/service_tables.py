"""Shared by the tests: service_tables."""

from __future__ import annotations

import pandas as pd
from hypothesis import strategies as st

from channel_analysis import schema

COLUMNS = "request_id dealer_id process department opened_at closed_at via_sales_manager satisfaction"


ROWS = [
    ("R1", "D1", "order", "销售部", "2025-10-02 09:00", "2025-10-02 15:00", False, 5),
    ("R2", "D1", "payment", "财务部", "2025-10-30 10:00", "2025-11-03 10:00", True, None),
    ("R3", "D2", "order", "销售部", "2025-09-30 12:00", "2025-10-01 14:00", False, 2),
    ("R4", "D2", "complaint", "质量部", "2025-10-05 08:00", "2025-10-07 08:00", True, 1),
    ("R5", "D3", "logistics", None, "2025-10-10 00:00", None, False, None),
    ("R6", "D1", "support", "技术部", "2025-08-15 10:00", "2025-10-20 10:00", False, 3),
    ("R7", "D1", "order", "销售部", "2025-11-02 09:00", None, True, None),
    ("R8", "D2", "support", "技术部", "2025-09-01 09:00", "2025-09-02 09:00", False, 4),
    ("R9", "D3", "payment", "法务部", "2025-06-02 09:00", "2025-06-03 09:00", False, None),
]


_START = pd.Timestamp("2025-01-01")


def requests(rows: list[tuple] = ROWS, columns: str = COLUMNS) -> pd.DataFrame:
    """service_requests typed as the loader types them (index = source row)."""
    df = pd.DataFrame(rows, columns=columns.split(), dtype=object)
    for column in ("opened_at", "closed_at"):
        df[column] = pd.to_datetime(df[column])
    for column in ("request_id", "dealer_id", "process", "department"):
        df[column] = df[column].astype("str")
    df["via_sales_manager"] = df["via_sales_manager"].astype("boolean")
    if "satisfaction" in df:
        df["satisfaction"] = df["satisfaction"].astype("Int64")
    df.index = pd.RangeIndex(1, len(df) + 1, name="source_row")
    return df


def dealers() -> pd.DataFrame:
    df = pd.DataFrame(
        {"dealer_id": ["D1", "D2", "D3"], "dealer_name": ["甲", "乙", "丙"], "region": ["N", "N", "S"],
         "sales_manager_id": ["S1", "S2", None], "signed_date": pd.to_datetime(["2024-01-01"] * 3)}
    )  # fmt: skip
    df["sales_manager_id"] = df["sales_manager_id"].astype("str")
    return df


@st.composite
def random_requests(draw, start=_START, days=120, close_days=60, most=25, dealers=("D1",),
                    departments=("甲", "乙", None)):  # fmt: skip
    """Up to ``most`` requests opened within ``days`` of ``start``, closed within ``close_days`` (often
    within three days) or open."""
    rows = []
    for i in range(draw(st.integers(0, most))):
        opened = start + pd.Timedelta(hours=draw(st.integers(0, 24 * days)))
        hours = draw(st.one_of(st.none(), st.integers(0, 72), st.integers(0, 24 * close_days)))  # often within a limit
        rows.append(
            (f"R{i}", draw(st.sampled_from(dealers)), draw(st.sampled_from(schema.PROCESSES)),
             draw(st.sampled_from(departments)), opened, None if hours is None else opened + pd.Timedelta(hours=hours),
             draw(st.booleans()), draw(st.one_of(st.none(), st.integers(1, 5))))
        )  # fmt: skip
    return requests(rows)
