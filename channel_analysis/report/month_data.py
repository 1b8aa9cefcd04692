"""What a report notebook loads, in one call: ``month_data(data, month, lang=lang)``.

:class:`MonthData` holds the tables as of the report month M and gives, computing them only
when the run has not and only when asked, what every report shows: the dealer × month panel,
the contract's KPIs, alerts and dealer health of M and of M−1
(:func:`~channel_analysis.figures.month_figures`, so the notebooks and the CSV files never
disagree), the KPIs of any other month, the headline figures and "what changed since last
month" in the report's language.

Given a prepared folder (:mod:`channel_analysis.store.prepared`) of the same month, it reads
the tables and the figures the run wrote there; given anything else (a folder of CSV files, a
database, a URL) it reads, validates and computes as the command line does.
"""

from __future__ import annotations

import math
from pathlib import Path
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.early_warning.series import PANEL_COLUMNS as SERIES
from channel_analysis.early_warning.series import order_control_series
from channel_analysis.errors import ParameterError
from channel_analysis.figures import (
    MonthFigures,
    ReportFigures,
    figures_from_store,
    kpis_by_month,
    month_figures,
    order_span,
    requests_closed,
    with_previous,
)
from channel_analysis.metrics.cohorts import PANEL_COLUMNS as COHORTS
from channel_analysis.metrics.scorecard import rule_breakers
from channel_analysis.months import Month, as_of
from channel_analysis.panel import dealer_month_panel
from channel_analysis.report.summaries import (
    _summary_costs,
    _summary_dealer_health,
    _summary_events,
    _summary_managers,
    _summary_service,
)
from channel_analysis.store.prepared import load_source
from channel_analysis.store.views import rule_tables, table_view
from channel_analysis.text.format import MONEY_METRICS, SHARE_METRICS, _missing, history_notes, sentence
from channel_analysis.text.labels import check_lang, label


TOPICS = ("dealer_health", "acquisition_vs_retention", "sales_managers", "service_flow", "events")


_TOPIC_ALIASES = {"costs": "acquisition_vs_retention", "managers": "sales_managers", "service": "service_flow"}


@dataclass(eq=False)
class MonthData:
    """Validated tables as of report month M, and what the reports compute from them.

    Computed once, on first use: ``panel`` (dealer × month as of M), ``rule_breakers``, ``kpis``,
    ``alerts``, ``health`` of M and ``previous`` (the same three of M−1, a
    :class:`~channel_analysis.monthly.MonthFigures`; None when the data start with M).
    ``kpis_of(month)`` gives the KPIs of any earlier month. ``figures``: what the monthly run
    already computed for M (:class:`~channel_analysis.monthly.ReportFigures`), used instead of
    computing it again.
    """

    location: str
    tables: dict[str, pd.DataFrame]  # as of M: rows dated after M's last day are left out
    month: Month
    lang: str = "en"
    settings: Settings = field(default_factory=Settings)
    prepared: bool = False
    rows_quarantined: int = 0
    data_quality: pd.DataFrame | None = None  # per table: rows read, accepted, quarantined
    figures: ReportFigures | None = field(default=None, repr=False)
    _kpis: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _views: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.figures is not None:
            if self.figures.month != self.month.label:
                raise ValueError(f"figures of {self.figures.month} given for month {self.month.label}")
            self._kpis.update(self.figures.kpis)

    def quality(self) -> pd.DataFrame:
        """Per table: rows read, accepted and quarantined (accepted rows only when not known)."""
        if self.data_quality is not None:
            return self.data_quality[["table", "rows_read", "rows_accepted", "rows_quarantined"]]
        return pd.DataFrame({"table": list(self.tables), "rows_accepted": [len(t) for t in self.tables.values()]})

    def __repr__(self) -> str:
        return f"MonthData({self.month.label}, {self.location}, lang={self.lang}, tables={list(self.tables)})"

    # ---- basics

    @property
    def label(self) -> str:
        """The report month, ``YYYY-MM``."""
        return self.month.label

    @property
    def period(self) -> pd.Period:
        return self.month.period

    @property
    def previous_label(self) -> str:
        return (self.period - 1).strftime("%Y-%m")

    @property
    def year_ago_label(self) -> str:
        return (self.period - 12).strftime("%Y-%m")

    def has(self, *tables: str) -> bool:
        """True when every table named is in the source."""
        return all(t in self.tables for t in tables)

    def text(self, key: str, **values: Any) -> str:
        """A label or sentence in the report's language."""
        return sentence(key, self.lang, **values) if values else label(key, self.lang)

    @cached_property
    def requests_closed(self) -> bool:
        """:func:`requests_closed` of the service requests the reports of M read."""
        return requests_closed(self.view("service_requests") if self.has("service_requests") else None)

    @cached_property
    def order_span(self) -> tuple[pd.Period, pd.Timestamp | None]:
        """:func:`order_span` of the tables as of M."""
        return order_span(self.tables, self.period)

    @property
    def first_data_month(self) -> pd.Period:
        """The month of the first order in the data (earlier months have no orders to compare)."""
        return self.order_span[0]

    @cached_property
    def managers(self) -> dict[str, str]:
        """sales_manager_id → name (from ``sales_managers``; empty without it)."""
        if "sales_managers" not in self.tables:
            return {}
        frame = self.tables["sales_managers"]
        names = frame[schema.SalesManagers.name].fillna(frame[schema.SalesManagers.sales_manager_id])
        return dict(zip(frame[schema.SalesManagers.sales_manager_id].astype(str), names.astype(str)))

    def manager_name(self, manager_id: Any) -> str:
        """The manager's name, else the id; empty for none."""
        if _missing(manager_id) or manager_id == "":
            return ""
        return self.managers.get(str(manager_id), str(manager_id))

    # ---- computed once

    @cached_property
    def panel(self) -> pd.DataFrame:
        """The dealer × month panel as of M (``panel.dealer_month_panel``)."""

        if self.figures is not None:
            return self.figures.panel
        return dealer_month_panel(self.tables, as_of=self.label)

    @cached_property
    def rule_breakers(self) -> pd.DataFrame:
        """``metrics.rule_breakers`` of M: the dealers breaking each sales-manager rule (computed
        from tens of millions of orders and interactions in a large network, so only once)."""

        return rule_breakers(rule_tables(self.tables), as_of=self.label, settings=self.settings)

    def panel_part(self, columns: list[str]) -> pd.DataFrame:
        """Only ``columns`` of :attr:`panel`: read alone from the panel's file when the whole panel
        has not been read (for a large network the whole takes gigabytes, a figure a few columns)."""
        if self.figures is not None and "panel" not in self.__dict__:
            return self.figures.panel_part(columns)
        return self.panel[columns]

    def view(self, name: str) -> pd.DataFrame:
        """What the reports of M read of table ``name`` (prospects, service_requests, expenses,
        event_attendance; :func:`table_view`), read once: the columns they use and the rows that
        can count in the months they show."""
        if name not in self._views:
            self._views[name] = table_view(self.tables, name, self.month, self.settings)
        return self._views[name]

    @cached_property
    def order_panel(self) -> pd.DataFrame:
        """The panel's columns that the order control charts (:func:`alert_series`) and the churn
        table read, read once: the dealer-health report draws a chart for each of several dealers."""

        return self.panel_part(list(dict.fromkeys([*SERIES, *COHORTS])))

    @cached_property
    def _figures(self) -> dict[str, MonthFigures]:
        if self.figures is not None:
            return self.figures.figures
        months = with_previous(self.tables, self.month)
        figures = month_figures(self.tables, months, settings=self.settings, panel=self.panel)
        for label_, fig in figures.items():
            self._kpis.setdefault(label_, fig.kpis)
        return figures

    @property
    def kpis(self) -> pd.DataFrame:
        """The contract's KPIs of M (``kpis.csv``)."""
        return self.kpis_of(self.label)

    @property
    def alerts(self) -> pd.DataFrame:
        """The action list of M (``alerts.csv``), most urgent first."""
        return self._figures[self.label].alerts

    @property
    def health(self) -> pd.DataFrame:
        """Dealer health of M (``dealer_health.csv``)."""
        return self._figures[self.label].health

    @property
    def previous(self) -> MonthFigures | None:
        """KPIs, alerts and health of M−1; None when the data start with M."""
        figures = self._figures.get(self.previous_label)
        if figures is None:
            return None
        return MonthFigures(kpis=self.kpis_of(self.previous_label), alerts=figures.alerts, health=figures.health)

    def kpis_of(self, month: str | pd.Period) -> pd.DataFrame:
        """The contract's KPIs of ``month`` (M or earlier), as a run of that month writes them."""
        key = pd.Period(month, freq="M").strftime("%Y-%m")
        if key > self.label:
            raise ParameterError(f"kpis_of({key}): the data are as of {self.label}; ask for {self.label} or earlier")
        self._compute_kpis([key])
        return self._kpis[key]

    def kpi_history(self, months: int = 13) -> pd.DataFrame:
        """The KPIs of the ``months`` months ending M, one frame (rows as in kpis.csv)."""
        labels = [(self.period - k).strftime("%Y-%m") for k in reversed(range(months))]
        self._compute_kpis(labels)
        return pd.concat([self._kpis[m] for m in labels], ignore_index=True)

    def _compute_kpis(self, labels: list[str]) -> None:
        """The KPIs of those of ``labels`` not known yet, handed to the engine once for all of them."""
        missing = [Month(m) for m in labels if m not in self._kpis]
        if missing:
            self._kpis.update(kpis_by_month(self.tables, missing, settings=self.settings))

    def kpi(self, metric: str, month: str | pd.Period | None = None, *, scope: str = "network",
            scope_id: str = "") -> float:
        """One KPI value (NaN when empty): ``md.kpi("revenue")``, ``md.kpi("cac_t12", md.previous_label)``."""
        frame = self.kpis_of(month or self.label)
        rows = frame[(frame["metric"] == metric) & (frame["scope"] == scope) & (frame["scope_id"] == scope_id)]
        if rows.empty:
            raise KeyError(f"no KPI {metric!r} for {scope} {scope_id!r}")
        value = rows["value"].iloc[0]
        return float(value) if pd.notna(value) else math.nan

    def kpi_target(self, metric: str) -> float:
        rows = self.kpis[(self.kpis["metric"] == metric) & (self.kpis["scope"] == "network")]
        return float(rows["target"].iloc[0]) if len(rows) and pd.notna(rows["target"].iloc[0]) else math.nan

    # ---- what changed

    def headline(self) -> pd.DataFrame:
        """The network KPIs of M against M−1 and against the same month last year: metric,
        value, previous, change_previous, last_year, change_last_year, kind.

        ``kind`` is ``money``, ``share`` or ``count``; a share's changes are differences
        (0.031 = 3.1 points), the others' relative changes (−0.04 = −4%); empty where a
        month has no value or lies before the data.
        """
        start = self.first_data_month
        rows = []
        for metric in self.kpis.loc[self.kpis["scope"] == "network", "metric"]:
            value = self.kpi(metric)
            previous = self.kpi(metric, self.previous_label) if self.period - 1 >= start else math.nan
            last_year = self.kpi(metric, self.year_ago_label) if self.period - 12 >= start else math.nan
            kind = "money" if metric in MONEY_METRICS else "share" if metric in SHARE_METRICS else "count"
            rows.append((metric, value, previous, _change(kind, value, previous), last_year,
                         _change(kind, value, last_year), kind))
        columns = ["metric", "value", "previous", "change_previous", "last_year", "change_last_year", "kind"]
        return pd.DataFrame(rows, columns=columns)

    def history_notes(self, *, early_warning: bool = False) -> list[str]:
        """:func:`history_notes` of this month's source, in the report's language."""
        return history_notes(*self.order_span, self.period, self.lang, early_warning=early_warning)

    def changes_summary(self, topic: str, *, history: bool = True) -> list[str]:
        """Short sentences for the summary box of a report (``dealer_health``,
        ``acquisition_vs_retention``, ``sales_managers``, ``service_flow``, ``events``),
        in the report's language: what changed since last month; first, where ``history`` and
        the topic reads figures over 12 months or the early warning, the :meth:`history_notes`."""
        topic = _TOPIC_ALIASES.get(topic, topic)
        builders = {
            "dealer_health": _summary_dealer_health,
            "acquisition_vs_retention": _summary_costs,
            "sales_managers": _summary_managers,
            "service_flow": _summary_service,
            "events": _summary_events,
        }
        if topic not in builders:
            raise ParameterError(f"changes_summary: unknown topic {topic!r}; use one of {', '.join(TOPICS)}")
        lines = [line for line in builders[topic](self) if line]
        lines = lines or [self.text("sum.nothing")]
        if history and topic in ("dealer_health", "acquisition_vs_retention"):
            lines = self.history_notes(early_warning=topic == "dealer_health") + lines
        return lines


def _change(kind: str, now: float, before: float) -> float:
    if _missing(now) or _missing(before):
        return math.nan
    if kind == "share":
        return now - before
    return now / before - 1 if before else math.nan


def month_data(data: str | Path, month: str, *, lang: str = "en", settings: Settings | None = None) -> MonthData:
    """A source (prepared folder, folder of files, database file or URL) and a report month →
    :class:`MonthData`: the validated tables as of the month's last day, ready for the reports.

    A prepared folder (:func:`write_prepared_source`) is read directly when its files match
    their checksums; otherwise the source is read and validated (rows breaking a rule are left
    out, as in a run). Raises ParameterError for a bad month or language, SourceError when the
    source cannot be used.
    """
    m = Month.parse(month)
    try:
        check_lang(lang)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None
    loaded = load_source(data)
    stored = loaded.figures
    figures = figures_from_store(stored) if stored is not None and str(stored.meta.get("month")) == m.label else None
    return MonthData(
        location=loaded.location,
        tables=as_of(loaded.tables, m),
        month=m,
        lang=lang,
        settings=settings or Settings(),
        prepared=loaded.prepared,
        rows_quarantined=loaded.rows_quarantined,
        data_quality=loaded.quality,
        figures=figures,
    )


def alert_series(md: MonthData, dealer_id: str, *, months: int = 24) -> pd.DataFrame:
    """One dealer's orders in the 3 months to each month of the ``months`` ending M (longer when
    its reference year lies further back) against its expectation and band: the control chart
    of an alert (see :func:`~channel_analysis.early_warning.series.order_control_series`). A
    dealer that stopped ordering (``purchase_stop``) is judged against the year up to its last
    order."""

    reference_end = None
    stopped = md.alerts[(md.alerts["dealer_id"] == dealer_id) & (md.alerts["alert"] == "purchase_stop")]
    if len(stopped):  # judge the silence against the year before it, not against itself
        panel = md.order_panel
        rows = panel[(panel[schema.Panel.dealer_id] == dealer_id) & (panel[schema.Panel.order_count] > 0)]
        if len(rows):
            reference_end = rows[schema.Panel.month].max().to_period("M")
    return order_control_series(md.order_panel, dealer_id, as_of=md.label, months=months, reference_end=reference_end)
