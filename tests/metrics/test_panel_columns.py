"""Each metric that reads the panel declares the columns it reads: given only those (as the reports
cut a large network's panel), it gives the same figures."""

from __future__ import annotations

import pandas as pd


def test_each_metric_gives_the_same_figures_from_only_the_panel_columns_it_declares(demo_tables):
    # the reports pass large-network panels cut to these columns (MonthData.panel_part): a metric
    # reading a column its list leaves out would raise here, and one whose figures depend on the
    # frame's other columns would differ
    from channel_analysis.metrics import cohorts, costs, events
    from channel_analysis.panel import dealer_month_panel
    tables = demo_tables
    panel, month = dealer_month_panel(tables, as_of="2025-12"), "2025-12"
    expenses, dealers = tables["expenses"], tables["dealers"]
    cac = costs.acquisition_cost_per_dealer(expenses, dealers, as_of=month, freq="QE").set_index("period")["cac"]
    calls = {
        tuple(cohorts.PANEL_COLUMNS): [
            lambda p: cohorts.cohort_ramp_up(p, as_of=month, cohort_freq="Y"),
            lambda p: cohorts.payback_month(p, cac, as_of=month),
            lambda p: cohorts.retained_dealer_value(p, as_of=month, by="region"),
            lambda p: cohorts.revenue_lost_to_churn(p, dealers, as_of=month),
        ],
        tuple(costs.PANEL_COLUMNS): [
            lambda p: costs.retention_activity_effect(p, expenses, as_of=month),
            lambda p: costs.retention_spend_roi(p, expenses, as_of=month, by="region"),
            lambda p: costs.revenue_by_segment(p, as_of=month),
        ],
        tuple(events.PANEL_COLUMNS): [
            lambda p: events.event_effect(p, tables["events"], tables["event_attendance"], as_of=month),
        ],
    }
    for columns, figures in calls.items():
        assert len(columns) < len(panel.columns)
        for figure in figures:
            pd.testing.assert_frame_equal(figure(panel[list(columns)]), figure(panel))
