"""Small helpers the metric modules share."""

from __future__ import annotations

import pandas as pd

NETWORK, REGION, SALES_MANAGER = "network", "region", "sales_manager"  # the scopes of kpis.csv


def month_ordinal(dates: pd.Series) -> pd.Series:
    """dates → month number as ``pd.Period(..., "M").ordinal`` (months since 1970-01)."""
    return (dates.dt.year - 1970) * 12 + dates.dt.month - 1


def optional_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """An optional column, or an all-missing one when the table lacks it."""
    return frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index, dtype="str")


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, missing where the denominator is 0."""
    return (numerator / denominator.where(denominator != 0)).astype(float)
