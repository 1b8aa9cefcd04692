"""Score a backtest's alerts and health against known problems (planted truth or real churners).

Given, per month, the alerts and the health table, and a truth table
``dealer_id, pattern, onset_month``, this measures what the early warning is
for: how many problems it catches and how soon, and how often it cries wolf.

Definitions (per dealer-month, dealers in the network at the month's end):

- a *problem* dealer-month is one of a dealer with a known problem, on or after
  its onset; ``no_reorder`` problems start :data:`NO_REORDER_GRACE` months after
  signing, when a healthy new dealer has reordered;
- a *healthy* dealer-month is one of a dealer with no known problem, or before
  its onset;
- *recall within k months*: the share of problems with onset in the scored
  range (and at least k months before its end) that had an alert in months
  onset … onset + k;
- *precision*: of the alerted dealer-months, the share that are problem months;
- *false alarms*: alerted healthy dealer-months / healthy dealer-months;
- *AUC*: the chance that a problem dealer-month has a lower health score than a
  healthy one (ties count half).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import rankdata

NO_REORDER_GRACE = 5  # months after signing by which a healthy new dealer has reordered


def _month_number(labels: pd.Series) -> pd.Series:
    p = pd.PeriodIndex(labels.astype(str), freq="M")
    return pd.Series(p.year * 12 + p.month - 1, index=labels.index)


def truth_onsets(truth: pd.DataFrame) -> pd.DataFrame:
    """Truth table → dealer_id, pattern, onset (month number) with the no_reorder grace applied."""
    out = truth[["dealer_id", "pattern"]].copy()
    out["onset"] = _month_number(truth["onset_month"])
    out.loc[out["pattern"] == "no_reorder", "onset"] += NO_REORDER_GRACE
    return out.drop_duplicates("dealer_id")


def labelled_dealer_months(
    results: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]], truth: pd.DataFrame
) -> pd.DataFrame:
    """{month: (alerts, health)}, truth → one row per dealer-month in the network: problem flag,
    alert flags, health score."""
    onsets = truth_onsets(truth).set_index("dealer_id")
    rows = []
    for month, (alerts, health) in results.items():
        h = health[health["status"] != "lost"][["dealer_id", "region", "health_score"]].copy()
        h["month"] = month
        by = alerts.groupby("dealer_id")
        h["alerted"] = h["dealer_id"].isin(alerts["dealer_id"])
        high = alerts.loc[alerts["severity"] == "high", "dealer_id"]
        h["alerted_high"] = h["dealer_id"].isin(high)
        h["alerts"] = h["dealer_id"].map(by["alert"].agg(lambda s: ",".join(sorted(set(s))))).fillna("")
        rows.append(h)
    frame = pd.concat(rows, ignore_index=True)
    frame["month_number"] = _month_number(frame["month"])
    frame["pattern"] = frame["dealer_id"].map(onsets["pattern"]).fillna("")
    onset = frame["dealer_id"].map(onsets["onset"])
    frame["problem"] = onset.notna() & (frame["month_number"] >= onset)
    frame["lag"] = frame["month_number"] - onset
    return frame


def auc(problem_scores: np.ndarray, healthy_scores: np.ndarray) -> float:
    """Mann–Whitney AUC: chance that a problem score exceeds a healthy one (ties half)."""
    if len(problem_scores) == 0 or len(healthy_scores) == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([problem_scores, healthy_scores]))
    r = ranks[: len(problem_scores)].sum()
    n1, n0 = len(problem_scores), len(healthy_scores)
    return float((r - n1 * (n1 + 1) / 2) / (n1 * n0))


def recall_by_pattern(frame: pd.DataFrame, truth: pd.DataFrame, *, within: int = 2) -> pd.DataFrame:
    """Labelled dealer-months, truth → per pattern: problems scoreable, caught within k months, recall,
    median lag (months from onset to the first alert, among those caught within 6 months)."""
    onsets = truth_onsets(truth)
    first, last = frame["month_number"].min(), frame["month_number"].max()
    scoreable = onsets[(onsets["onset"] >= first) & (onsets["onset"] <= last - within)]
    alerted = frame[frame["alerted"] & frame["problem"]]
    first_alert = alerted.groupby("dealer_id")["lag"].min()
    scoreable = scoreable.assign(lag=scoreable["dealer_id"].map(first_alert))
    # a dealer that left the network before its problem could be seen is not scoreable
    seen = frame.groupby("dealer_id")["month_number"].max()
    scoreable = scoreable[scoreable["dealer_id"].map(seen).astype(float).fillna(-1) >= scoreable["onset"]]
    scoreable["caught"] = scoreable["lag"] <= within
    rows = []
    for pattern, g in [("all", scoreable), *scoreable.groupby("pattern")]:
        lags = g.loc[g["lag"] <= 6, "lag"]
        rows.append(
            {
                "pattern": pattern,
                "problems": len(g),
                "caught": int(g["caught"].sum()),
                "recall": g["caught"].mean() if len(g) else np.nan,
                "median_lag": lags.median() if len(lags) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def score_backtest(
    results: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    truth: pd.DataFrame,
    *,
    downturns: pd.DataFrame | None = None,
    within: int = 2,
) -> dict[str, object]:
    """{month: (alerts, health)}, truth → the headline figures (see the module docstring)."""
    frame = labelled_dealer_months(results, truth)
    healthy = frame[~frame["problem"]]
    alerted = frame[frame["alerted"]]
    high = frame[frame["alerted_high"]]
    winter = healthy[healthy["month"].str[5:7].isin(["01", "02"])]
    out: dict[str, object] = {
        "months": int(frame["month"].nunique()),
        "dealer_months": len(frame),
        "problem_dealer_months": int(frame["problem"].sum()),
        "precision": alerted["problem"].mean() if len(alerted) else np.nan,
        "precision_high": high["problem"].mean() if len(high) else np.nan,
        "false_alarms_per_healthy_dealer_month": healthy["alerted"].mean(),
        "false_alarms_jan_feb": winter["alerted"].mean() if len(winter) else np.nan,
        "auc": auc(100 - frame.loc[frame["problem"], "health_score"].to_numpy(),
                   100 - healthy["health_score"].to_numpy()),
    }
    if downturns is not None and len(downturns):
        in_downturn = np.zeros(len(healthy), dtype=bool)
        for d in downturns.itertuples():
            lo, hi = _month_number(pd.Series([d.start_month, d.end_month]))
            in_downturn |= (healthy["region"] == d.region).to_numpy() & healthy["month_number"].between(lo, hi).to_numpy()
        out["false_alarms_in_downturn"] = healthy.loc[in_downturn, "alerted"].mean() if in_downturn.any() else np.nan
    recall = recall_by_pattern(frame, truth, within=within)
    out["recall"] = float(recall.loc[recall["pattern"] == "all", "recall"].iloc[0])
    out["median_lag"] = float(recall.loc[recall["pattern"] == "all", "median_lag"].iloc[0])
    out["recall_by_pattern"] = recall
    return out
