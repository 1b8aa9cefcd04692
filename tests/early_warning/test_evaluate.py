"""Scoring a backtest against known problems, on a case small enough to check with a pencil.

Two months (2025-12, 2026-01), five dealers in the network and one that has left:

    dealer  region  truth                 alerts 2025-12              alerts 2026-01
    P1      山东    stop, onset 2025-12   purchase_stop high          purchase_stop high, below_peers low
    P2      山东    drop, onset 2025-12   –                           purchase_drop low
    H1      广东    –                     calls_spike medium          –
    H2      广东    –                     –                           below_peers low
    H3      山东    –                     below_peers low             –
    X       山东    –                     (lost: not scored)          (lost: not scored)

    health  2025-12  2026-01
    P1      20       10
    P2      60       40
    H1      70       90
    H2      90       40
    H3      80       85

Problem dealer-months: P1 and P2 in both months = 4; healthy: H1–H3 in both = 6.
Alerted dealer-months: P1 Dec, H1 Dec, H3 Dec, P1 Jan (two alerts, one dealer-month),
P2 Jan, H2 Jan = 6, of which 3 are problem months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channel_analysis.early_warning.evaluate import (
    NO_REORDER_GRACE,
    auc,
    labelled_dealer_months,
    recall_by_pattern,
    score_backtest,
    truth_onsets,
)

REGION = {"P1": "山东", "P2": "山东", "H1": "广东", "H2": "广东", "H3": "山东", "X": "山东"}
TRUTH = pd.DataFrame({"dealer_id": ["P1", "P2"], "pattern": ["stop", "drop"], "onset_month": ["2025-12", "2025-12"]})
DOWNTURNS = pd.DataFrame({"region": ["广东"], "start_month": ["2025-12"], "end_month": ["2025-12"], "factor": [0.5]})


def month(
    label: str, health: dict[str, float], alerts: list[tuple[str, str, str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One month's (alerts, health) in the shape ``warnings_for_months`` returns (the columns scoring reads)."""
    h = pd.DataFrame(
        {
            "month": label,
            "dealer_id": [*health, "X"],
            "region": [REGION[d] for d in [*health, "X"]],
            "status": ["active"] * len(health) + ["lost"],
            "health_score": [*health.values(), 0.0],
        }
    )
    a = pd.DataFrame(alerts, columns=["dealer_id", "alert", "severity"]).assign(month=label)
    return a, h


RESULTS = {
    "2025-12": month(
        "2025-12",
        {"P1": 20, "P2": 60, "H1": 70, "H2": 90, "H3": 80},
        [("P1", "purchase_stop", "high"), ("H1", "calls_spike", "medium"), ("H3", "below_peers", "low")],
    ),
    "2026-01": month(
        "2026-01",
        {"P1": 10, "P2": 40, "H1": 90, "H2": 40, "H3": 85},
        [("P1", "purchase_stop", "high"), ("P1", "below_peers", "low"), ("P2", "purchase_drop", "low"),
         ("H2", "below_peers", "low")],
    ),
}


def test_dealer_months_are_labelled_problem_from_onset_and_lost_dealers_are_left_out():
    frame = labelled_dealer_months(RESULTS, TRUTH)
    assert len(frame) == 10  # 5 dealers × 2 months; X has left
    problems = set(frame.loc[frame["problem"], ["dealer_id", "month"]].itertuples(index=False, name=None))
    assert problems == {("P1", "2025-12"), ("P1", "2026-01"), ("P2", "2025-12"), ("P2", "2026-01")}
    p1_jan = frame[(frame["dealer_id"] == "P1") & (frame["month"] == "2026-01")].iloc[0]
    assert p1_jan["alerts"] == "below_peers,purchase_stop" and p1_jan["lag"] == 1


def test_precision_and_false_alarms_are_per_dealer_month():
    score = score_backtest(RESULTS, TRUTH, downturns=DOWNTURNS, within=1)
    assert score["dealer_months"] == 10 and score["problem_dealer_months"] == 4
    assert score["precision"] == pytest.approx(3 / 6)  # P1 Dec, P1 Jan, P2 Jan of 6 alerted
    assert score["precision_high"] == pytest.approx(2 / 2)  # P1's purchase_stop, both months
    assert score["false_alarms_per_healthy_dealer_month"] == pytest.approx(3 / 6)  # H1 Dec, H3 Dec, H2 Jan
    assert score["false_alarms_jan_feb"] == pytest.approx(1 / 3)  # H2 of H1–H3 in January
    assert score["false_alarms_in_downturn"] == pytest.approx(1 / 2)  # H1 of H1, H2 in 广东 in December


def test_auc_counts_pairs_where_the_problem_month_has_the_lower_health():
    # problem months 20, 10, 60, 40 against healthy 70, 90, 80, 90, 40, 85:
    # 20 and 10 are below all 6; 60 below 5; 40 below 5 and ties one (half) → 22.5 of 24 pairs
    score = score_backtest(RESULTS, TRUTH, downturns=DOWNTURNS, within=1)
    assert score["auc"] == pytest.approx(22.5 / 24)
    assert auc(np.array([3.0, 2.0]), np.array([1.0, 2.0])) == pytest.approx(3.5 / 4)
    assert np.isnan(auc(np.array([]), np.array([1.0])))


def test_recall_counts_an_alert_within_k_months_of_onset():
    frame = labelled_dealer_months(RESULTS, TRUTH)
    # within 0 months: P1 alerted in its onset month, P2 only a month later → 1 of 2
    at_once = recall_by_pattern(frame, TRUTH, within=0).set_index("pattern")
    assert at_once.loc["all", "recall"] == 0.5
    assert at_once.loc["stop", "recall"] == 1.0 and at_once.loc["drop", "recall"] == 0.0
    assert at_once.loc["all", "median_lag"] == 0.5  # lags 0 and 1
    # within 1 month both are caught
    score = score_backtest(RESULTS, TRUTH, within=1)
    assert score["recall"] == 1.0


def test_a_problem_needs_k_months_after_its_onset_in_range_to_be_scored():
    # onset 2025-12 + 2 months is past 2026-01, the last month: nothing to score, recall undefined
    frame = labelled_dealer_months(RESULTS, TRUTH)
    recall = recall_by_pattern(frame, TRUTH, within=2).set_index("pattern")
    assert recall.loc["all", "problems"] == 0 and np.isnan(recall.loc["all", "recall"])


def test_no_reorder_starts_after_the_grace_months():
    truth = pd.DataFrame(
        {"dealer_id": ["N1", "S1"], "pattern": ["no_reorder", "stop"], "onset_month": ["2025-08", "2025-08"]}
    )
    onsets = truth_onsets(truth).set_index("dealer_id")["onset"]
    assert NO_REORDER_GRACE == 5
    assert onsets["N1"] - onsets["S1"] == 5  # signed 2025-08: a problem from 2026-01
    assert onsets["S1"] == 2025 * 12 + 8 - 1
