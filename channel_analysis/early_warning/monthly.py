"""The month's early warning: alerts per dealer and a health score, for one month or many.

``monthly_warning(panel, dealers, as_of=...)`` gives one month's action list
and health table; :func:`warnings_for_months` gives many months from one
panel, as the backtest needs. See :mod:`.signals` for the method.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from channel_analysis.early_warning.detect import (
    ALERT_COLUMNS,
    HEALTH_COLUMNS,
    STATUSES,
    WarningSettings,
    alerts_from_signals,
)
from channel_analysis.early_warning.health import dealer_health, health_scores
from channel_analysis.early_warning.signals import History, history_from_panel, signals_at

__all__ = [
    "ALERT_COLUMNS",
    "HEALTH_COLUMNS",
    "STATUSES",
    "WarningSettings",
    "History",
    "history_from_panel",
    "monthly_warning",
    "warnings_for_months",
]


def _month_label(month: str | pd.Period) -> str:
    return pd.Period(month, freq="M").strftime("%Y-%m")


def warnings_for_months(
    history: History, months: Iterable[str | pd.Period], *, settings: WarningSettings | None = None
) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """History, months → ``{month: (alerts, health)}``; each month sees only its own past.

    The health scores of the month before each month are computed too, so that
    every month says what moved its score. A month in which no dealer is in the network or
    leaving it (before the first signing, after the last dealer left) has no rows.
    """
    settings = settings or WarningSettings()
    out = {}
    cache: dict[str, pd.DataFrame] = {}

    def health_of(label: str, previous: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        if not history.has_dealers_in(label):  # before the first signing, or after every dealer left
            return pd.DataFrame(columns=ALERT_COLUMNS), pd.DataFrame(columns=HEALTH_COLUMNS)
        col = history.col(label)
        sig = signals_at(history, label)
        alerts = alerts_from_signals(sig, month=label, month_col=col, settings=settings)
        health = dealer_health(sig, alerts, month=label, month_col=col, settings=settings, previous=previous)
        return alerts, health

    for month in months:
        label = _month_label(month)
        prev_label = _month_label(pd.Period(label, freq="M") - 1)
        previous = cache.get(prev_label)
        if previous is None and history.has_dealers_in(prev_label):
            # of the month before, only the scores are needed (to say what moved each one)
            sig = signals_at(history, prev_label)
            previous = health_scores(sig, month_col=history.col(prev_label), settings=settings)
        alerts, health = health_of(label, previous)
        cache[label] = health
        out[label] = (alerts, health)
    return out


def monthly_warning(
    panel: pd.DataFrame, dealers: pd.DataFrame, *, as_of: str | pd.Period, settings: WarningSettings | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """panel, dealers → (alerts, dealer health) as of the month: the contract's alerts.csv and
    dealer_health.csv rows."""
    history = history_from_panel(panel, dealers)
    return warnings_for_months(history, [as_of], settings=settings)[_month_label(as_of)]
