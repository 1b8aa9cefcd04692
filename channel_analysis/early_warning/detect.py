"""Signals → the action list (``alerts.csv``) and the health score (``dealer_health.csv``).

Each detector is a vectorised rule over the signals of :mod:`.signals`; its
``score`` is ``10 × −log10(p)`` of the chance that a healthy dealer would look
like this (capped at 100), so scores of different detectors compare. The
thresholds are named in :class:`WarningSettings`; ``high`` needs a far smaller
chance than ``medium`` so that it is rarely wrong.

An alert says why in figures, not in words: ``figures`` holds (as JSON) what its sentence
needs, and :mod:`channel_analysis.text.reasons` renders it in the reader's language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.early_warning.signals import MIN_HISTORY

D = schema.Dealers
ALERT_COLUMNS = ["month", "dealer_id", "dealer_name", "region", "sales_manager_id", "alert", "severity", "score", "figures"]
HEALTH_COLUMNS = [
    "month", "dealer_id", "dealer_name", "region", "tier", "sales_manager_id", "status", "health_score",
    "health_change", "moved", "recency", "volume", "level", "peers", "calls", "reorder", "service",
]
STATUSES = ("new", "active", "at_risk", "dormant", "lost")
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class WarningSettings:
    """Thresholds of the detectors: p is the chance a healthy dealer looks like this."""

    stop_p: float = 2e-2  # purchase_stop: silence this unlikely from the dealer's rhythm
    stop_p_medium: float = 1e-3
    stop_p_high: float = 1e-4
    # ... or, in a normal market, this unlikely by both the rhythm and the order count (a low alert)
    stop_p_agreed: float = 0.15
    drop_p: float = 1e-2  # purchase_drop: recent orders this unlikely given the expectation
    drop_p_medium: float = 1e-4
    drop_p_high: float = 1e-6
    drop_ratio: float = 0.5  # ... and at most this share of the expected orders
    drop_value_ratio: float = 0.6  # ... and the value of those orders at most this share of expected
    drop_min_expected: float = 3.0  # expected recent orders needed to judge a drop
    calls_p: float = 3e-4  # calls_drop; calls_spike at least medium
    calls_spike_p: float = 1e-3  # calls_spike (low between this and calls_p)
    calls_p_high: float = 1e-5
    calls_spike_ratio: float = 2.5
    calls_drop_ratio: float = 0.25
    calls_min_expected: float = 4.0
    peers_z: float = -4.0  # below_peers: robust z within region and tier
    peers_max_change: float = np.log(0.5)  # ... and the dealer's own orders under half its baseline
    peers_own_p: float = 0.01  # ... and unusual for the dealer itself
    # weak signals that agree (purchase_drop, low): silence, order count and calls each only somewhat
    # unusual, their chances multiplied under this (10 ** -3: three chances of 0.1 each)
    agreed_p: float = 1e-3
    # the relaxed tests (stop_p_agreed, agreed_p) only where the region orders at least this share of
    # its usual over the last 3 months: a deep downturn makes every expectation less sure
    relaxed_min_market: float = 0.7
    no_reorder_months: int = 5  # months after the first order without a second
    no_reorder_high_months: int = 7  # past the contract's 180 days
    at_risk_score: float = 60.0  # health below this is at risk
    dormant_months: int = 6  # months without an order


def _score(p: pd.Series) -> pd.Series:
    return np.minimum(100.0, -10 * np.log10(np.maximum(p, 1e-10))).round(1)


def _severity(p: pd.Series, medium: float, high: float) -> pd.Series:
    return pd.Series(np.select([p < high, p < medium], ["high", "medium"], "low"), index=p.index)


def _figures(frame: pd.DataFrame, **columns: str | float) -> pd.Series:
    """One JSON object per row of ``frame``: each name's value from the column it names (or the
    number given), the figures an alert's sentence is rendered from (text.reasons)."""
    values = {name: frame[col].to_numpy() if isinstance(col, str) else np.full(len(frame), col)
              for name, col in columns.items()}  # fmt: skip
    rows = [json.dumps({name: _plain(v[i]) for name, v in values.items()}, sort_keys=True) for i in range(len(frame))]
    return pd.Series(rows, index=frame.index, dtype=object)


def _plain(value):
    """A numpy scalar → the Python value JSON writes (ints stay whole)."""
    return value.item() if hasattr(value, "item") else value


def _judged(sig: pd.DataFrame) -> pd.Series:
    return (
        sig["in_network"]
        & (sig["baseline_months"] >= MIN_HISTORY)
        & (sig["rhythm_months"] >= MIN_HISTORY)
        & (sig["ordering_share"] > 0)
    )


def _normal_market(sig: pd.DataFrame, s: WarningSettings) -> pd.Series:
    return sig["market_change"] >= np.log(s.relaxed_min_market)


def _agreed_silence_p(sig: pd.DataFrame) -> pd.Series:
    """The silence's chance by the rhythm and by the order count, whichever is larger."""
    return np.maximum(sig["p_silence"], sig["p_silence_count"])


def _stop(sig: pd.DataFrame, s: WarningSettings) -> pd.DataFrame:
    # a silence unlikely by the dealer's rhythm, or (in a normal market) somewhat unlikely by both
    # the rhythm and the order count: a monthly orderer quiet for two months, a rhythm broken
    agreed = _normal_market(sig, s) & (_agreed_silence_p(sig) < s.stop_p_agreed)
    hit = sig[_judged(sig) & (sig["months_silent"] >= 2) & ((sig["p_silence"] < s.stop_p) | agreed)]
    figures = _figures(hit.assign(market=np.expm1(hit["market_change"])), last_order_month="last_order_month",
                       months_silent="months_silent", ordering_share="ordering_share", rhythm_months="rhythm_months",
                       p_silence="p_silence", market="market")  # fmt: skip
    return _rows(hit, "purchase_stop", hit["p_silence"], s.stop_p_medium, s.stop_p_high, figures)


def _drop(sig: pd.DataFrame, s: WarningSettings, stopped: pd.Index) -> pd.DataFrame:
    ok = (
        _judged(sig)
        & ~sig.index.isin(stopped)
        & (sig["expected_orders"] >= s.drop_min_expected)
        & (sig["recent_orders"] <= s.drop_ratio * sig["expected_orders"])
        & (sig["recent_gross"] <= s.drop_value_ratio * sig["expected_gross"])
        & (sig["p_drop"] < s.drop_p)
    )
    hit = sig[ok]
    strict = _rows(hit, "purchase_drop", hit["p_drop"], s.drop_p_medium, s.drop_p_high, _drop_reason(hit))
    agreed = _agreed(sig[~ok], s, stopped)
    return strict if agreed.empty else agreed if strict.empty else pd.concat([strict, agreed])


def _drop_reason(hit: pd.DataFrame) -> pd.Series:
    return _figures(hit.assign(market=np.expm1(hit["market_change"])), orders="recent_orders", amount="recent_gross",
                    window="drop_window", expected_orders="expected_orders", expected_amount="expected_gross",
                    market="market")  # fmt: skip


def _agreed(sig: pd.DataFrame, s: WarningSettings, stopped: pd.Index) -> pd.DataFrame:
    """Weak signals that agree: the silence, the order count and the inbound calls each only somewhat
    unusual (a gradual decline, a small dealer's drop), their chances multiplied; always ``low``."""
    p = _agreed_silence_p(sig) * sig["p_drop"] * sig["p_calls_down"]
    ok = _judged(sig) & ~sig.index.isin(stopped) & _normal_market(sig, s) & (p < s.agreed_p)
    hit = sig[ok].assign(p_agreed=p[ok])
    # the drop's sentence (the report translates it); the calls and silence behind it are in the health
    # table's components
    reason = _drop_reason(hit)
    return _rows(hit, "purchase_drop", hit["p_agreed"], 0.0, 0.0, reason)


def _calls(sig: pd.DataFrame, s: WarningSettings) -> pd.DataFrame:
    base = sig["in_network"] & (sig["baseline_months"] >= MIN_HISTORY)
    up = sig[
        base
        & (sig["p_calls_up"] < s.calls_spike_p)
        & (sig["calls_month"] >= s.calls_spike_ratio * sig["expected_calls_month"])
        & (sig["calls_month"] >= 4 * sig["calls_window"])
    ]
    up_reason = _figures(up, calls="calls_month", window="calls_window", usual="expected_calls_month")
    down = sig[
        base
        & (sig["p_calls_down"] < s.calls_p)
        & (sig["expected_calls_recent"] >= s.calls_min_expected)
        & (sig["calls_recent"] <= s.calls_drop_ratio * sig["expected_calls_recent"])
    ]
    down_reason = _figures(down, calls="calls_recent", usual="expected_calls_recent")
    return pd.concat(
        [
            _rows(up, "calls_spike", up["p_calls_up"], s.calls_p, s.calls_p_high, up_reason),
            _rows(down, "calls_drop", down["p_calls_down"], s.calls_p, s.calls_p_high, down_reason),
        ]
    )


def _peers(sig: pd.DataFrame, s: WarningSettings) -> pd.DataFrame:
    hit = sig[
        _judged(sig)
        & (sig["peer_z"] < s.peers_z)
        & (sig["change_6m"] < s.peers_max_change)
        & (sig["p_drop"] < s.peers_own_p)
    ]
    reason = _figures(hit.assign(change=np.expm1(hit["change_6m"])), change="change", z="peer_z")
    # a robust z of -3.5 is p ~ 2e-4 under normality; severity never high on peers alone
    p = pd.Series(2 * 10 ** (hit["peer_z"].clip(upper=0) / 1.5 - 1.3), index=hit.index)
    return _rows(hit, "below_peers", p, 1e-4, 0.0, reason)


def _no_reorder(sig: pd.DataFrame, s: WarningSettings, month_col: int) -> pd.DataFrame:
    months_since_first = month_col - sig["first_order_month"]
    # the dealer's first order must be in the data (not a dealer signed long before it began)
    only_first = (sig["first_order_month"] >= 0) & (sig["months_since_signed"] <= month_col + 1)
    hit = sig[
        sig["in_network"] & only_first & (sig["orders_first_month_only"]) & (months_since_first >= s.no_reorder_months)
    ]
    gap = months_since_first[hit.index]
    severity = pd.Series(
        np.select([gap >= s.no_reorder_high_months, gap >= s.no_reorder_months + 1], ["high", "medium"], "low"),
        index=hit.index,
    )
    reason = _figures(hit.assign(months=gap), months="months")
    out = _frame(hit, "no_reorder", severity, np.minimum(100.0, 10.0 * gap), reason)
    return out


def _rows(hit, alert, p, medium, high, reason) -> pd.DataFrame:
    return _frame(hit, alert, _severity(p, medium, high), _score(p), reason)


def _frame(hit, alert, severity, score, reason) -> pd.DataFrame:
    if hit.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS[1:])
    return pd.DataFrame(
        {
            "dealer_id": hit[D.dealer_id],
            "dealer_name": hit[D.dealer_name] if D.dealer_name in hit else "",
            "region": hit[D.region],
            "sales_manager_id": hit[D.sales_manager_id] if D.sales_manager_id in hit else "",
            "alert": alert,
            "severity": severity,
            "score": score,
            "figures": reason,
        },
        index=hit.index,
    )


def alerts_from_signals(sig: pd.DataFrame, *, month: str, month_col: int, settings: WarningSettings) -> pd.DataFrame:
    """Signals of one month → the action list: one row per dealer and alert, most urgent first."""
    sig = sig.assign(orders_first_month_only=_first_month_only(sig))
    stop = _stop(sig, settings)
    parts = [
        stop,
        _drop(sig, settings, stop.index),
        _calls(sig, settings),
        _peers(sig, settings),
        _no_reorder(sig, settings, month_col),
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "month", month)
    out["_sev"] = out["severity"].map(SEVERITY_ORDER)
    out = out.sort_values(["_sev", "score", "dealer_id", "alert"], ascending=[True, False, True, True])
    return out.drop(columns="_sev").reset_index(drop=True)[ALERT_COLUMNS]


def _first_month_only(sig: pd.DataFrame) -> pd.Series:
    return sig["orders_total"].eq(sig["orders_in_first_month"]) if "orders_in_first_month" in sig else False
