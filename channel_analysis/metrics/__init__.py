"""Metrics: pure functions from validated tables (and the panel) to tidy frames.

Each takes the report month as ``as_of`` and uses only data dated up to its end.
"""

from channel_analysis.metrics.cohorts import (
    cohort_ramp_up,
    dealer_status,
    dealer_status_shares,
    payback_month,
    retained_dealer_value,
    revenue_lost_to_churn,
    survival_by_cohort,
)
from channel_analysis.metrics.costs import (
    acquisition_cost_per_dealer,
    retention_activity_effect,
    retention_cost_per_dealer,
    retention_spend_roi,
    revenue_by_segment,
)
from channel_analysis.metrics.events import (
    event_cost_by_kind,
    event_cost_per_attendee_t12,
    event_costs,
    event_effect,
)
from channel_analysis.metrics.funnel import (
    acquisition_effort_per_signing,
    acquisition_vs_retention_effort,
    prospect_funnel,
    retention_effort_per_dealer,
    time_to_signing,
)
from channel_analysis.metrics.kpis import KPI_COLUMNS, METRICS, monthly_kpis
from channel_analysis.metrics.scorecard import rule_breakers, sales_manager_scorecard, scorecard_trend
from channel_analysis.metrics.service import (
    service_levels,
    sla_compliance_trend,
    slowest_departments,
    via_sales_manager_trend,
)

__all__ = [
    "KPI_COLUMNS",
    "METRICS",
    "acquisition_cost_per_dealer",
    "acquisition_effort_per_signing",
    "acquisition_vs_retention_effort",
    "cohort_ramp_up",
    "dealer_status",
    "dealer_status_shares",
    "event_cost_by_kind",
    "event_cost_per_attendee_t12",
    "event_costs",
    "event_effect",
    "monthly_kpis",
    "payback_month",
    "prospect_funnel",
    "retained_dealer_value",
    "retention_activity_effect",
    "retention_cost_per_dealer",
    "retention_effort_per_dealer",
    "retention_spend_roi",
    "revenue_by_segment",
    "revenue_lost_to_churn",
    "rule_breakers",
    "sales_manager_scorecard",
    "scorecard_trend",
    "service_levels",
    "sla_compliance_trend",
    "slowest_departments",
    "survival_by_cohort",
    "time_to_signing",
    "via_sales_manager_trend",
]
