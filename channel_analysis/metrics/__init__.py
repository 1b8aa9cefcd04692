"""Metrics: pure functions from validated tables (and the panel) to tidy frames."""

from channel_analysis.metrics.kpis import KPI_COLUMNS, METRICS, monthly_kpis

__all__ = ["KPI_COLUMNS", "METRICS", "monthly_kpis"]
