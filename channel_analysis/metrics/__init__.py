"""Metrics: pure functions from validated tables (and the panel) to tidy frames, each as of its month."""

# Each takes the report month as ``as_of`` and uses only data dated up to its end. Importing this
# package loads no metric module; each name is imported from its module on first use, so a report
# that shows cohorts does not wait for the KPI engine or the regression models.

from importlib import import_module

_MODULES = {
    "acquisition_cost_per_dealer": "costs",
    "acquisition_effort_per_signing": "funnel",
    "acquisition_vs_retention_effort": "funnel",
    "cohort_ramp_up": "cohorts",
    "event_cost_by_kind": "events",
    "event_cost_per_attendee_t12": "events",
    "event_costs": "events",
    "event_effect": "events",
    "KPI_COLUMNS": "kpis",
    "METRICS": "kpis",
    "monthly_kpis": "kpis",
    "payback_month": "cohorts",
    "prospect_funnel": "funnel",
    "retained_dealer_value": "cohorts",
    "retention_activity_effect": "costs",
    "retention_cost_per_dealer": "costs",
    "retention_effort_per_dealer": "funnel",
    "retention_spend_roi": "costs",
    "revenue_by_segment": "costs",
    "revenue_lost_to_churn": "cohorts",
    "rule_breakers": "scorecard",
    "sales_manager_scorecard": "scorecard",
    "scorecard_trend": "scorecard",
    "service_levels": "service",
    "sla_compliance_trend": "service",
    "slowest_departments": "service",
    "survival_by_cohort": "cohorts",
    "time_to_signing": "funnel",
    "via_sales_manager_trend": "service",
}

__all__ = [
    "KPI_COLUMNS",
    "METRICS",
    "acquisition_cost_per_dealer",
    "acquisition_effort_per_signing",
    "acquisition_vs_retention_effort",
    "cohort_ramp_up",
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


def __getattr__(name: str):
    if name in _MODULES:
        return getattr(import_module(f"channel_analysis.metrics.{_MODULES[name]}"), name)
    raise AttributeError(f"module 'channel_analysis.metrics' has no attribute {name!r}")
