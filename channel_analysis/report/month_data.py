"""What a report notebook loads, in one call: ``month_data(data, month, lang=lang)``.

:class:`MonthData` is the month's figures (the one container: KPIs, alerts and dealer health
of M and M−1, the panel, the parts of the large tables the pages show; computed once, so the
notebooks, the deck and the CSV files never disagree) with what only the pages need: the
reader's language, the headline table and "what changed since last month".

Given a prepared folder (:mod:`channel_analysis.store.prepared`) of the same month, it reads
the tables and the figures the run wrote there; given anything else (a folder of CSV files, a
database, a URL) it reads, validates and computes as the command line does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from channel_analysis.config import Settings
from channel_analysis.errors import ParameterError
from channel_analysis.figures.month import MonthFigures, figures_from_store
from channel_analysis.metrics.kpis import KINDS, SHARE
from channel_analysis.months import Month
from channel_analysis.report.sections import REPORTS
from channel_analysis.report.summaries import SUMMARIES
from channel_analysis.store.prepared import load_source
from channel_analysis.store.views import table_rows
from channel_analysis.text.format import Text, history_notes, missing, text_for
from channel_analysis.text.labels import check_lang


@dataclass(eq=False)
class MonthData:
    """The month as the report pages read it: the month's figures (``figures``, the one container
    every surface reads, :class:`~channel_analysis.figures.month.MonthFigures`), the reader's
    language and its text layer (``t``), where the data came from and its quality, and what only
    the pages say: the headline table, the history notes and "what changed since last month".

    Every other attribute is the figures' (``md.kpi``, ``md.alerts``, ``md.tables``, ``md.view`` …).
    """

    figures: MonthFigures
    lang: str = "en"
    location: str = ""
    prepared: bool = False
    rows_quarantined: int = 0
    data_quality: pd.DataFrame | None = None  # per table: rows read, accepted, quarantined

    def __post_init__(self) -> None:
        check_lang(self.lang)
        self.t: Text = text_for(self.lang)

    def __getattr__(self, name: str) -> Any:  # the month's figures
        if name == "figures":  # not set yet (copying, unpickling): no figures to look in
            raise AttributeError(name)
        return getattr(self.figures, name)

    def __repr__(self) -> str:
        return f"MonthData({self.label}, {self.location}, lang={self.lang}, tables={list(self.tables)})"

    def text(self, key: str, **values: Any) -> str:
        """A label or sentence in the report's language."""
        return self.t(key, **values)

    def quality(self) -> pd.DataFrame:
        """Per table: rows read, accepted and quarantined (accepted rows only when not known)."""
        if self.data_quality is not None:
            return self.data_quality[["table", "rows_read", "rows_accepted", "rows_quarantined"]]
        return pd.DataFrame({"table": list(self.tables), "rows_accepted": [table_rows(self.tables, t) for t in self.tables]})

    def headline(self) -> pd.DataFrame:
        """The network KPIs of M against M−1 and against the same month last year: metric,
        value, previous, change_previous, last_year, change_last_year, kind.

        ``kind`` is ``money``, ``share`` or ``count`` (the metric's, from its definition); a share's
        changes are differences (0.031 = 3.1 points), the others' relative changes (−0.04 = −4%);
        empty where a month has no value or lies before the data.
        """
        rows = []
        for metric in self.kpis.loc[self.kpis["scope"] == "network", "metric"]:
            value, kind = self.kpi(metric), KINDS[metric]
            previous, last_year = self.kpi(metric, self.previous_label), self.kpi(metric, self.year_ago_label)
            rows.append((metric, value, previous, _change(kind, value, previous), last_year,
                         _change(kind, value, last_year), kind))
        columns = ["metric", "value", "previous", "change_previous", "last_year", "change_last_year", "kind"]
        return pd.DataFrame(rows, columns=columns)

    def history_notes(self, *, early_warning: bool = False) -> list[str]:
        """:func:`~channel_analysis.text.format.history_notes` of this month's source, in the report's language."""
        return history_notes(self.t, self.figures, early_warning=early_warning)

    def changes_summary(self, report: str, *, history: bool = True) -> list[str]:
        """Short sentences for the summary box of a report (one of :data:`REPORTS`), in the report's
        language: what changed since last month; first, where ``history`` and the report reads
        figures over 12 months or the early warning, the :meth:`history_notes`."""
        if report not in SUMMARIES:
            raise ParameterError(f"changes_summary: unknown report {report!r}; use one of {', '.join(REPORTS)}")
        lines = [line for line in SUMMARIES[report](self) if line]
        lines = lines or [self.text("sum.nothing")]
        if history and report in ("dealer_health", "acquisition_vs_retention"):
            lines = self.history_notes(early_warning=report == "dealer_health") + lines
        return lines


def _change(kind: str, now: float, before: float) -> float:
    if missing(now) or missing(before):
        return math.nan
    if kind == SHARE:
        return now - before
    return now / before - 1 if before else math.nan


def month_data(data: str | Path, month: str, *, lang: str = "en", settings: Settings | None = None) -> MonthData:
    """A source (prepared folder, folder of files, database file or URL) and a report month →
    :class:`MonthData`: the validated tables as of the month's last day, ready for the reports.

    A prepared folder (:mod:`channel_analysis.store.prepared`) is read directly when its files
    match their checksums, with the figures the run wrote beside them; otherwise the source is read
    and validated (rows breaking a rule are left out, as in a run). Raises ParameterError for a
    bad month or language, SourceError when the source cannot be used.
    """
    m = Month.parse(month)
    try:
        check_lang(lang)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None
    loaded = load_source(data)
    figures = figures_from_store(loaded.figures, loaded.tables, m, settings=settings)
    return MonthData(figures=figures, lang=lang, location=loaded.location, prepared=loaded.prepared,
                     rows_quarantined=loaded.rows_quarantined, data_quality=loaded.quality)  # fmt: skip
