"""The landing page (``index.html``): headline figures, what changed, links to everything the run wrote."""

from __future__ import annotations

import pandas as pd

from channel_analysis.report.display import show_links, summary_box
from channel_analysis.report.month_data import MonthData
from channel_analysis.report.sections import REPORTS, dealer_health
from channel_analysis.report.sections._base import drop_empty, note, section, show_table

SUMMARISED = REPORTS[:4]  # the reports whose first lines of "what changed" the landing page's box gives
FILES = (
    ("deck.pptx", "file.deck"),
    ("alerts.xlsx", "file.alerts_xlsx"),
    ("alerts.csv", "file.alerts_csv"),
    ("dealer_health.csv", "file.dealer_health_csv"),
    ("kpis.csv", "file.kpis_csv"),
    ("data_quality.csv", "file.data_quality_csv"),
    ("manifest.json", "file.manifest"),
)


def summary(md: MonthData) -> None:
    """The box at the top: the first lines of what changed, from every report."""
    lines = md.history_notes(early_warning=True)
    for report in SUMMARISED:
        lines.extend(md.changes_summary(report, history=False)[:2])
    summary_box(lines, lang=md.lang)


@section("index_reports")
def reports(md: MonthData) -> None:
    """Links to the five reports."""
    show_links([(md.text(name), f"{name}.html", md.text(f"about.{name}")) for name in REPORTS])


@section("index_glance")
def at_a_glance(md: MonthData) -> pd.DataFrame | None:
    """The network KPIs against last month and last year."""
    return dealer_health.at_a_glance.__wrapped__(md)


@section("index_urgent")
def most_urgent(md: MonthData, n: int = 10) -> pd.DataFrame | None:
    """The most urgent alerts; the full list is in the dealer-health report and alerts.xlsx."""
    frame = drop_empty(dealer_health.action_list_frame(md).head(n))
    if frame.empty:
        note(md, "no_alerts")
        return
    return show_table(frame, lang=md.lang, label_values=["alert", "severity"], wrap=["reason"])


@section("index_files")
def files(md: MonthData) -> None:
    """Links to the deck, the action list and the month's tables."""
    show_links([(name, name, md.text(key)) for name, key in FILES] + [("quarantine/", "quarantine", md.text("file.quarantine"))])


@section("index_quality")
def data_quality(md: MonthData) -> pd.DataFrame | None:
    """Rows read, accepted and quarantined per table."""
    return show_table(md.quality(), lang=md.lang)


__all__ = ["summary", "reports", "at_a_glance", "most_urgent", "files", "data_quality"]
