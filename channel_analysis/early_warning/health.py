"""Signals → health score 0–100, status, and the components that moved it since last month.

The score is a weighted mean of seven components, each from 0 (alarming) to 1
(as expected); the weights are :data:`WEIGHTS`:

``recency``  how plausible the time since the last order is for this dealer's rhythm
``volume``   recent orders against the expectation from its own history and market
``level``    the last 6 months against the dealer's monthly orders in the two years
             before the last one: a dealer settled far below its former level
``peers``    its 6-month change against dealers of the same region and tier
``calls``    its inbound calls against its usual level, either way
``reorder``  a new dealer that placed only its first order loses this one month by month
``service``  complaints in the last 3 months

Status, first match wins: ``lost`` (terminated on or before the month's end),
``new`` (signed within :data:`NEW_DEALER_MONTHS` months), ``dormant`` (no order
for ``dormant_months``), ``at_risk`` (a high or medium alert, or a score below
``at_risk_score``), else ``active``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.early_warning.detect import HEALTH_COLUMNS, WarningSettings
from channel_analysis.early_warning.signals import MIN_HISTORY, NEW_DEALER_MONTHS

D = schema.Dealers
WEIGHTS = {
    "recency": 0.30,
    "volume": 0.15,
    "level": 0.20,
    "peers": 0.10,
    "calls": 0.10,
    "reorder": 0.10,
    "service": 0.05,
}


def _from_p(p: pd.Series, decades: float) -> pd.Series:
    """A chance p → 1 at p = 1, falling linearly in log10(p) to 0 at 10**-decades."""
    return (1 + np.log10(np.clip(p.astype(float), 1e-12, 1.0)) / decades).clip(0, 1)


def health_components(sig: pd.DataFrame, *, month_col: int, settings: WarningSettings) -> pd.DataFrame:
    """Signals → one row per dealer: the six components in [0, 1] (1 where a dealer cannot be judged)."""
    judged = (sig["baseline_months"] >= MIN_HISTORY) & (sig["rhythm_months"] >= MIN_HISTORY) & (sig["ordering_share"] > 0)
    one = pd.Series(1.0, index=sig.index)
    recency = _from_p(sig["p_silence"], 4).where(judged, one)
    enough = judged & (sig["expected_orders"] >= 1)
    # how unusual the fall is, and how deep: the level over 6 months against the expectation
    volume = _from_p(sig["p_drop"], 5).where(enough, one)
    # a dealer settled far below the level it used to have is "half dead" (半死不活) even when
    # stable: the last 6 months against its monthly orders in the two years before the last one
    level = np.sqrt(
        ((sig["orders_6m"] / 6 + 0.5) / (sig["former_monthly_orders"] + 0.5)).clip(0, 1)
    ).where(sig["former_monthly_orders"].notna() & judged, one)
    peers = (1 + sig["peer_z"].clip(upper=0) / 6).clip(0, 1).fillna(1.0)
    calls = _from_p(np.minimum(sig["p_calls_up"], sig["p_calls_down"]), 6).where(
        sig["baseline_months"] >= MIN_HISTORY, one
    )
    months_since_first = month_col - sig["first_order_month"]
    only_first = (sig["first_order_month"] >= 0) & (sig["orders_total"] == sig["orders_in_first_month"])
    only_first &= sig["months_since_signed"] <= month_col + 1
    reorder = (1 - (months_since_first - 2).clip(lower=0) / 4).clip(0, 1).where(only_first, one)
    service = 1 / (1 + 0.5 * sig["complaints_recent"])
    return pd.DataFrame(
        {
            "recency": recency,
            "volume": volume,
            "level": level,
            "peers": peers,
            "calls": calls,
            "reorder": reorder,
            "service": service,
        }
    )


def health_score(components: pd.DataFrame) -> pd.Series:
    """Components → score 0–100 (rounded to 0.1)."""
    total = sum(components[k] * w for k, w in WEIGHTS.items())
    return (100 * total).round(1)


def health_scores(sig: pd.DataFrame, *, month_col: int, settings: WarningSettings) -> pd.DataFrame:
    """Signals → one row per dealer: dealer_id, health_score (0 for a dealer that left) and the
    components (rounded to 0.001): all that the next month's :func:`dealer_health` compares with."""
    comp = health_components(sig, month_col=month_col, settings=settings)
    score = health_score(comp).where(sig["in_network"], 0.0)
    return pd.concat([pd.DataFrame({"dealer_id": sig[D.dealer_id], "health_score": score}), comp.round(3)], axis=1)


def dealer_health(
    sig: pd.DataFrame,
    alerts: pd.DataFrame,
    *,
    month: str,
    month_col: int,
    settings: WarningSettings,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Signals and alerts of a month (+ last month's health, or its :func:`health_scores`) →
    ``dealer_health.csv`` rows."""
    scores = health_scores(sig, month_col=month_col, settings=settings)
    lost = ~sig["in_network"]
    urgent = set(alerts.loc[alerts["severity"].isin(["high", "medium"]), "dealer_id"])
    status = np.select(
        [
            lost,
            sig["months_since_signed"] < NEW_DEALER_MONTHS,
            (sig["months_silent"] >= settings.dormant_months) & (sig["baseline_months"] >= MIN_HISTORY),
            sig[D.dealer_id].isin(urgent) | (scores["health_score"] < settings.at_risk_score),
        ],
        ["lost", "new", "dormant", "at_risk"],
        "active",
    )
    out = pd.DataFrame(
        {
            "month": month,
            "dealer_name": sig.get(D.dealer_name, ""),
            "region": sig[D.region],
            "tier": sig.get(D.tier, pd.Series(pd.NA, index=sig.index)),
            "sales_manager_id": sig.get(D.sales_manager_id, pd.Series(pd.NA, index=sig.index)),
            "status": status,
        }
    )
    out = pd.concat([out, scores], axis=1)
    out["health_change"], out["moved"] = _changes(out, previous)
    return out[HEALTH_COLUMNS].sort_values("dealer_id").reset_index(drop=True)


def _changes(now: pd.DataFrame, previous: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Score change since last month, and the components that moved it most: per dealer a JSON
    list of ``[component, whole points]`` (the two that moved most, if by 2 points or more), ``"new"``
    (no score last month) or ``"left"`` (left the network); text.reasons.why_changed says it."""
    if previous is None or previous.empty:
        return pd.Series(np.nan, index=now.index), pd.Series("", index=now.index)
    prev = previous.set_index("dealer_id").reindex(now["dealer_id"])
    prev.index = now.index
    change = (now["health_score"] - prev["health_score"]).round(1)
    names = np.array(list(WEIGHTS))
    moves = np.column_stack([100 * w * (now[k] - prev[k]).to_numpy(dtype=float) for k, w in WEIGHTS.items()])
    moves = np.nan_to_num(moves)
    order = np.argsort(-np.abs(moves), axis=1, kind="stable")[:, :2]
    moved = [[] for _ in range(len(now))]
    for rank in range(2):  # the two components that moved most, if they moved 2 points or more
        pick = moves[np.arange(len(moves)), order[:, rank]]
        for i in np.flatnonzero(np.abs(pick) >= 2):  # only these are named (a minority)
            moved[i].append([str(names[order[i, rank]]), round(float(pick[i]))])  # whole points, as shown
    why = pd.Series([json.dumps(m) if m else "" for m in moved], index=now.index, dtype=str)
    why = why.where(prev["health_score"].notna(), json.dumps("new"))
    why = why.where(now["status"] != "lost", json.dumps("left"))
    return change, why
