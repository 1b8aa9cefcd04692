"""One month's figures in one container, :class:`MonthFigures`: what the CSV files, every page,
the deck and the workbooks read, so they never disagree.

A run computes them once (:func:`figures_of_month`, or :func:`figures_of_month_from_files` for a
large source), writes them beside the prepared tables (:func:`store_frames`), and each report
notebook reads them back (:func:`figures_from_store`). Given only tables (a notebook run by hand
on a folder of CSV files), the container computes each figure when first asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.early_warning.series import PANEL_COLUMNS as SERIES_COLUMNS
from channel_analysis.early_warning.series import order_control_series
from channel_analysis.errors import ParameterError
from channel_analysis.figures.compute import (
    KPI_HISTORY,
    MonthTables,
    _engine_figures,
    _first_order_date,
    _months_back,
    kpis_by_month,
    warnings_by_month,
)
from channel_analysis.metrics.cohorts import PANEL_COLUMNS as COHORT_COLUMNS
from channel_analysis.metrics.funnel import acquisition_vs_retention_effort
from channel_analysis.metrics.kpis import METRICS
from channel_analysis.metrics.scorecard import rule_breakers, sales_manager_scorecard
from channel_analysis.metrics.service import service_levels
from channel_analysis.months import Month, as_of
from channel_analysis.panel import dealer_month_panel, read_panel
from channel_analysis.store.prepared import PreparedFigures, figure_path
from channel_analysis.store.views import I, log_read, rule_tables, table_part, table_view

O = schema.Orders
STORED = ("panel", "kpis", "alerts", "health")  # what a run stores of its figures, by name


class MonthFigures:
    """The figures of report month M, each computed once: the contract's KPIs (of M and of any
    month before it), alerts and dealer health of M and M−1, the dealer × month panel, the parts of
    the large tables the reports show, the sales managers' rule breakers and scorecard.

    ``tables``: the validated tables (cut to M's last day here); ``kpis``, ``contract`` (the
    :class:`MonthTables` by month) and ``panel`` (a frame, or the Parquet file holding it): what
    was computed already (a run's figures), else computed when first asked for.

    One lookup for every surface: :meth:`kpi` gives NaN for a value the month does not have (an
    empty value, a scope without the metric, a month before the data) and raises KeyError only
    for a name that is no KPI of the contract.
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame], month: Month | str, *, settings: Settings | None = None,
                 kpis: Mapping[str, pd.DataFrame] | None = None, contract: Mapping[str, MonthTables] | None = None,
                 panel: pd.DataFrame | Path | None = None):  # fmt: skip
        self.month = month if isinstance(month, Month) else Month.parse(month)
        self.tables = as_of(tables, self.month)
        self.settings = settings or Settings()
        self._kpis: dict[str, pd.DataFrame] = dict(kpis or {})
        self._contract: dict[str, MonthTables] | None = dict(contract) if contract is not None else None
        self.panel_data = panel
        self._views: dict[str, pd.DataFrame] = {}
        if self._contract is not None:
            for label_, tables_ in self._contract.items():
                self._kpis.setdefault(label_, tables_.kpis)

    def __repr__(self) -> str:
        return f"MonthFigures({self.label}, tables={list(self.tables)})"

    # ---- the month

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

    @cached_property
    def order_span(self) -> tuple[pd.Period, pd.Timestamp | None]:
        """The month of the first order (``M`` when there is none: earlier months have no orders to
        compare) and the date of the last (None when there is none), as of M."""
        dates = table_part(self.tables, "orders", [O.order_date])[O.order_date]
        if not len(dates):
            return self.period, None
        return dates.min().to_period("M"), dates.max()

    @property
    def first_data_month(self) -> pd.Period:
        """The month of the first order in the data (earlier months have no orders to compare)."""
        return self.order_span[0]

    # ---- the contract's tables

    @property
    def contract(self) -> dict[str, MonthTables]:
        """KPIs, alerts and dealer health of M and, when the data reach back to it, of M−1."""
        if self._contract is None:
            months = _months_back(self._first_order(), self.month, 2)
            warnings = warnings_by_month(self.tables, months, panel=self.panel)
            self._contract = {m.label: MonthTables(self.kpis_of(m.label), *warnings[m.label]) for m in months}
        return self._contract

    def _first_order(self) -> pd.Timestamp:
        return self.first_data_month.start_time if self.order_span[1] is not None else pd.NaT

    @property
    def now(self) -> MonthTables:
        return self.contract[self.label]

    @property
    def previous(self) -> MonthTables | None:
        """KPIs, alerts and health of M−1; None when the data start with M."""
        return self.contract.get(self.previous_label)

    @property
    def alerts(self) -> pd.DataFrame:
        """The alerts of M (the early warning's rows, most urgent first)."""
        return self.now.alerts

    @property
    def health(self) -> pd.DataFrame:
        """Dealer health of M."""
        return self.now.health

    # ---- KPIs

    @property
    def kpis(self) -> pd.DataFrame:
        """The contract's KPIs of M (``kpis.csv``)."""
        return self.kpis_of(self.label)

    def kpis_of(self, month: str | pd.Period) -> pd.DataFrame:
        """The contract's KPIs of ``month`` (M or earlier), as a run of that month writes them."""
        key = pd.Period(month, freq="M").strftime("%Y-%m")
        if key > self.label:
            raise ParameterError(f"kpis_of({key}): the data are as of {self.label}; ask for {self.label} or earlier")
        self._compute_kpis([key])
        return self._kpis[key]

    def kpi_history(self, months: int = KPI_HISTORY) -> pd.DataFrame:
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
            scope_id: str = "") -> float:  # fmt: skip
        """One KPI value: ``f.kpi("revenue")``, ``f.kpi("cac_t12", f.previous_label)``; NaN when the
        value is empty, the scope has no row or the month lies before the data; KeyError for a
        name that is no KPI."""
        if metric not in METRICS:
            raise KeyError(f"no KPI {metric!r}: the KPIs are {', '.join(METRICS)}")
        period = pd.Period(month or self.label, freq="M")
        if period < self.first_data_month:
            return math.nan
        frame = self.kpis_of(period)
        rows = frame[(frame["metric"] == metric) & (frame["scope"] == scope) & (frame["scope_id"] == scope_id)]
        value = rows["value"].iloc[0] if len(rows) else math.nan
        return float(value) if pd.notna(value) else math.nan

    def kpi_target(self, metric: str) -> float:
        """The network target of ``metric`` (NaN without one)."""
        rows = self.kpis[(self.kpis["metric"] == metric) & (self.kpis["scope"] == "network")]
        return float(rows["target"].iloc[0]) if len(rows) and pd.notna(rows["target"].iloc[0]) else math.nan

    # ---- the panel

    @cached_property
    def panel(self) -> pd.DataFrame:
        """The dealer × month panel as of M (read from its file, or computed, on first use)."""
        if isinstance(self.panel_data, pd.DataFrame):
            return self.panel_data
        if self.panel_data is None:
            self.panel_data = dealer_month_panel(self.tables, as_of=self.label)
            return self.panel_data
        return self._read_panel(None)

    def panel_part(self, columns: list[str]) -> pd.DataFrame:
        """Only ``columns`` of :attr:`panel`: read alone from the panel's file when the whole panel
        has not been read (for a large network the whole takes gigabytes, a figure a few columns)."""
        if isinstance(self.panel_data, Path) and "panel" not in self.__dict__:
            return self._read_panel(columns)
        return self.panel[columns]

    def _read_panel(self, columns: list[str] | None) -> pd.DataFrame:
        log_read("panel", columns)
        return read_panel(self.panel_data, columns=columns)

    def forget_panel(self) -> None:
        """Drop the panel if it was read from its file (it is read again when next asked for)."""
        if isinstance(self.panel_data, Path):
            self.__dict__.pop("panel", None)

    @cached_property
    def order_panel(self) -> pd.DataFrame:
        """The panel's columns that the order control charts (:meth:`order_series`) and the churn
        table read, read once."""
        return self.panel_part(list(dict.fromkeys([*SERIES_COLUMNS, *COHORT_COLUMNS])))

    def order_series(self, dealer_id: str, *, months: int = 24) -> pd.DataFrame:
        """One dealer's orders in the 3 months to each month of the ``months`` ending M against its
        expectation and band: the control chart of an alert
        (:func:`~channel_analysis.early_warning.series.order_control_series`). A dealer that stopped
        ordering (``purchase_stop``) is judged against the year up to its last order."""
        reference_end = None
        stopped = self.alerts[(self.alerts["dealer_id"] == dealer_id) & (self.alerts["alert"] == "purchase_stop")]
        if len(stopped):  # judge the silence against the year before it, not against itself
            panel = self.order_panel
            rows = panel[(panel[schema.Panel.dealer_id] == dealer_id) & (panel[schema.Panel.order_count] > 0)]
            if len(rows):
                reference_end = rows[schema.Panel.month].max().to_period("M")
        return order_control_series(self.order_panel, dealer_id, as_of=self.label, months=months,
                                    reference_end=reference_end)  # fmt: skip

    # ---- the large tables, in part

    def view(self, name: str) -> pd.DataFrame:
        """What the reports of M read of table ``name`` (prospects, service_requests, expenses,
        event_attendance; :func:`~channel_analysis.store.views.table_view`), read once."""
        if name not in self._views:
            self._views[name] = table_view(self.tables, name, self.month, self.settings)
        return self._views[name]

    @cached_property
    def requests_closed(self) -> bool:
        """Whether the service requests of the months shown record when they close (a ``closed_at``
        on any of them). Without one every request counts as still open (none within its time
        limit, a backlog that only grows), which the reports then say."""
        if not self.has("service_requests"):
            return False
        requests, closed = self.view("service_requests"), schema.ServiceRequests.closed_at
        return closed in requests and bool(requests[closed].notna().any())

    def revenue_by_month(self, months: int = 24) -> pd.DataFrame:
        """orders → month (``YYYY-MM``), revenue (every order by its date, returns included, as the
        KPI counts them) for the ``months`` ending M, from the first month with data."""
        first = max(self.period - months + 1, self.first_data_month)
        periods = pd.period_range(first, self.period, freq="M")
        orders = table_part(self.tables, "orders", [O.order_date, O.amount], first.start_time)
        revenue = orders[O.amount].groupby(orders[O.order_date].dt.to_period("M")).sum()
        return pd.DataFrame({"month": periods.strftime("%Y-%m"),
                             "revenue": revenue.reindex(periods, fill_value=0.0).to_numpy(dtype=float)})

    def effort(self, prospects: pd.DataFrame | None = None) -> pd.DataFrame:
        """``metrics.acquisition_vs_retention_effort`` of M, reading of the interactions (tens of
        millions of rows in a large network) only the columns and the 12 months it counts."""
        t12 = (self.period - 11).start_time
        interactions = table_part(self.tables, "interactions",
                                  [I.dealer_id, I.occurred_at, I.direction, I.duration_minutes], t12)  # fmt: skip
        prospects = self.view("prospects") if prospects is None else prospects
        return acquisition_vs_retention_effort(prospects, interactions, self.tables["dealers"], as_of=self.label)

    # ---- the sales managers

    @cached_property
    def managers(self) -> dict[str, str]:
        """sales_manager_id → name (from ``sales_managers``; the id where the name is empty)."""
        if "sales_managers" not in self.tables:
            return {}
        frame = self.tables["sales_managers"].drop_duplicates(schema.SalesManagers.sales_manager_id)
        ids = frame[schema.SalesManagers.sales_manager_id].astype(str)
        names = frame[schema.SalesManagers.name].where(frame[schema.SalesManagers.name].fillna("") != "", ids)
        return dict(zip(ids, names.astype(str)))

    def manager_name(self, manager_id: Any) -> str:
        """The manager's name, else the id; empty for none (a surface says how it shows "no one")."""
        if manager_id is None or (pd.api.types.is_scalar(manager_id) and pd.isna(manager_id)) or manager_id == "":
            return ""
        return self.managers.get(str(manager_id), str(manager_id))

    @cached_property
    def rule_breakers(self) -> pd.DataFrame:
        """``metrics.rule_breakers`` of M: the dealers breaking each sales-manager rule (computed
        from tens of millions of orders and interactions in a large network, so only once)."""
        return rule_breakers(rule_tables(self.tables), as_of=self.label, settings=self.settings)

    @cached_property
    def scorecard(self) -> pd.DataFrame:
        """``metrics.sales_manager_scorecard`` of M, from the same rule breakers."""
        # with the KPIs and the rule breakers given, the scorecard reads only the sales managers
        return sales_manager_scorecard(self.tables, as_of=self.label, settings=self.settings, kpis=self.kpis,
                                       breakers=self.rule_breakers)  # fmt: skip

    @cached_property
    def service_levels(self) -> pd.DataFrame | None:
        """``metrics.service_levels`` of M per process (None without service requests)."""
        if not self.has("service_requests"):
            return None
        return service_levels(self.view("service_requests"), as_of=self.label, settings=self.settings)


# --------------------------------------------------------------------------- computed once, stored, read back


def figures_of_month(tables: Mapping[str, pd.DataFrame], month: Month | str, *,
                     settings: Settings | None = None) -> MonthFigures:  # fmt: skip
    """validated tables, report month M → :class:`MonthFigures` with the panel, the KPIs of the
    :data:`KPI_HISTORY` months ending M that the data reach, and the alerts and health of M and
    M−1, computed now."""
    figures = MonthFigures(tables, month, settings=settings)
    month = figures.month
    first = figures._first_order()
    figures._compute_kpis([m.label for m in _months_back(first, month, KPI_HISTORY)])
    figures.contract  # noqa: B018 (computed now, from the panel computed now)
    return figures


def figures_of_month_from_files(tables: Mapping[str, pd.DataFrame], accepted: dict[str, Path], month: Month, *,
                                settings: Settings, panel_path: Path, work: Path) -> MonthFigures:  # fmt: skip
    """Accepted tables as Parquet files, report month M → :class:`MonthFigures` as
    :func:`figures_of_month` gives them, computed by the engine from the files; the panel stays in
    its file ``panel_path`` until a reader asks for it. ``tables``: the same tables read a part at
    a time (the prepared folder's)."""
    first = _first_order_date(accepted, month)
    kpi_months, compared = _months_back(first, month, KPI_HISTORY), _months_back(first, month, 2)
    kpis, warnings = _engine_figures(accepted, kpi_months, compared, month, settings=settings,
                                     panel_path=panel_path, work=work)  # fmt: skip
    contract = {m.label: MonthTables(kpis[m.label], *warnings[m.label]) for m in compared}
    return MonthFigures(tables, month, settings=settings, kpis=kpis, contract=contract, panel=panel_path)


def store_frames(figures: MonthFigures) -> tuple[dict[str, pd.DataFrame | Path], dict]:
    """:class:`MonthFigures` → (the frames to store beside the prepared tables, by name, the panel
    as its file when it is one; what the marker says of them): the other half of
    :func:`figures_from_store`."""
    contract = figures.contract
    frames = {
        "panel": figures.panel_data if figures.panel_data is not None else figures.panel,
        "kpis": pd.concat(figures._kpis.values(), ignore_index=True),
        "alerts": pd.concat([f.alerts for f in contract.values()], ignore_index=True),
        "health": pd.concat([f.health for f in contract.values()], ignore_index=True),
    }
    return frames, {"month": figures.label, "months": sorted(contract)}


def stored(figures: MonthFigures, folder: Path, tables: Mapping[str, pd.DataFrame] | None = None) -> None:
    """After the prepared folder was written: a panel file moved into it is read from there on,
    and so are the tables (``tables``: the folder's, read a part at a time)."""
    if isinstance(figures.panel_data, Path):
        figures.panel_data = figure_path(folder, "panel")
    if tables is not None:
        figures.tables = as_of(tables, figures.month)


month_figures = figures_of_month  # the public name (channel_analysis.month_figures)


def figures_from_store(stored_figures: PreparedFigures | None, tables: Mapping[str, pd.DataFrame], month: Month, *,
                       settings: Settings | None = None) -> MonthFigures:  # fmt: skip
    """The figures a run wrote beside a prepared source (files already checked) → :class:`MonthFigures`
    of ``month`` over ``tables``; when there are none, or they are of another month, a container
    that computes each figure when first asked for."""
    if stored_figures is None or str(stored_figures.meta.get("month")) != month.label:
        return MonthFigures(tables, month, settings=settings)
    files = stored_figures.files
    # the panel (millions of rows for a large network) is read when a report asks for it
    frames = {name: pd.read_parquet(files[name]) for name in STORED if name != "panel"}

    def of(frame: pd.DataFrame, label_: str) -> pd.DataFrame:
        return frame[frame["month"] == label_].reset_index(drop=True)

    kpis = {m: of(frames["kpis"], m) for m in sorted(set(frames["kpis"]["month"]))}
    contract = {m: MonthTables(kpis[m], of(frames["alerts"], m), of(frames["health"], m))
                for m in map(str, stored_figures.meta["months"])}  # fmt: skip
    return MonthFigures(tables, month, settings=settings, kpis=kpis, contract=contract, panel=files["panel"])
