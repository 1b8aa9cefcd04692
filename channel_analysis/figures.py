"""One month's figures, computed once: the KPIs, alerts and dealer health of the report month M
(and of M−1, to say what changed), the KPIs of the months the reports' trends show, and the
dealer × month panel.

Every surface reads them from here, so the CSV files, the pages, the deck and the workbooks
never disagree: a run computes them once (:func:`report_figures`, or from the accepted Parquet
files of a large source, :func:`report_figures_from_files`), writes them beside the prepared
tables (:func:`figure_frames`), and each report notebook reads them back
(:func:`figures_from_store`) instead of computing them again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import ibis
import pandas as pd

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.early_warning import history_from_panel, warnings_for_months
from channel_analysis.early_warning.signals import HISTORY_COLUMNS
from channel_analysis.metrics.funnel import acquisition_vs_retention_effort
from channel_analysis.metrics.kpis import monthly_kpis
from channel_analysis.months import Month, as_of
from channel_analysis.panel import dealer_month_panel, read_panel, write_panel
from channel_analysis.sources.engine import engine_tables, ibis_tables
from channel_analysis.store.prepared import PreparedFigures, figure_path
from channel_analysis.store.views import I, log_read, table_part
from channel_analysis.validate.postgres import with_validated_postgres
from channel_analysis.validate.stream import ENGINE_MEMORY, read_accepted


@dataclass
class MonthFigures:
    """What every run of a month computes: the contract's three tables."""

    kpis: pd.DataFrame
    alerts: pd.DataFrame
    health: pd.DataFrame


def kpis_by_month(tables: dict[str, pd.DataFrame], months: list[Month], *, settings: Settings) -> dict[str, pd.DataFrame]:
    """Validated tables, months → each month's KPIs (``kpis.csv``), as of its end.

    The tables are handed to the engine once for all months (``monthly_kpis`` ignores rows
    dated after its month, so they need no cutting).
    """

    bound, con = engine_tables(tables)
    return {m.label: monthly_kpis(bound, as_of=m.label, settings=settings, con=con) for m in months}


def warnings_by_month(
    tables: dict[str, pd.DataFrame], months: list[Month], *, panel: pd.DataFrame | None = None
) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Validated tables, months → each month's (alerts, dealer health), as of its end.

    One panel, as of the last month, serves every month: a month reads only its own past.
    ``panel``: that panel when the caller has it already.
    """

    last = max(months, key=lambda m: m.label)
    if panel is None:
        panel = dealer_month_panel(as_of(tables, last), as_of=last.label)
    history = history_from_panel(panel, tables["dealers"])
    return warnings_for_months(history, [m.label for m in months])


def month_figures(
    tables: dict[str, pd.DataFrame],
    months: list[Month],
    *,
    settings: Settings,
    panel: pd.DataFrame | None = None,
) -> dict[str, MonthFigures]:
    """Validated tables, months → each month's KPIs, alerts and dealer health, as of its end
    (``panel``: the dealer × month panel as of the last month, when the caller has it)."""
    kpis = kpis_by_month(tables, months, settings=settings)
    warnings = warnings_by_month(tables, months, panel=panel)
    return {m.label: MonthFigures(kpis[m.label], *warnings[m.label]) for m in months}


def month_figures_from_files(
    accepted: dict[str, Path], months: list[Month], *, settings: Settings, work: Path
) -> dict[str, MonthFigures]:
    """Accepted tables as Parquet files (``validate_stream.validate_parquet``), months → as
    :func:`month_figures`, for sources too large for memory: the engine reads the files, the panel
    goes to a file in ``work`` and the early warning reads only the columns it uses."""
    last = max(months, key=lambda m: m.label)
    kpis, warnings = _engine_figures(accepted, months, months, last, settings=settings,
                                     panel_path=work / "panel.parquet", work=work)
    return {m.label: MonthFigures(kpis[m.label], *warnings[m.label]) for m in months}


def _engine_figures(
    accepted: dict[str, Path],
    kpi_months: list[Month],
    warning_months: list[Month],
    last: Month,
    *,
    settings: Settings,
    panel_path: Path,
    work: Path,
) -> tuple[dict[str, pd.DataFrame], dict[str, tuple[pd.DataFrame, pd.DataFrame]]]:
    """Accepted Parquet files → (KPIs of ``kpi_months``, (alerts, health) of ``warning_months``);
    the panel as of ``last`` is written to ``panel_path``."""


    folders = {path.parent for path in accepted.values()}
    if len(folders) != 1:
        raise ValueError("the accepted tables must be the files of one folder")
    con = ibis.duckdb.connect(memory_limit=ENGINE_MEMORY, temp_directory=str(work / "spill"))
    con.raw_sql("SET enable_progress_bar = false")
    tables = ibis_tables(folders.pop(), con=con)
    return _figures_in_engine(tables, read_accepted(accepted["dealers"]), kpi_months, warning_months, last,
                              settings=settings, panel_path=panel_path, con=con)  # fmt: skip


def _figures_in_engine(
    tables: dict,
    dealers: pd.DataFrame,
    kpi_months: list[Month],
    warning_months: list[Month],
    last: Month,
    *,
    settings: Settings,
    panel_path: Path,
    con=None,
) -> tuple[dict[str, pd.DataFrame], dict[str, tuple[pd.DataFrame, pd.DataFrame]]]:
    """Ibis tables of accepted rows (and the accepted dealers) → as :func:`_engine_figures`: the KPIs
    and the panel computed where the tables are, the early warning from the panel's file."""

    kpis = kpis_by_month(tables, kpi_months, settings=settings)
    write_panel(tables, as_of=last.label, path=panel_path, con=con)
    panel = read_panel(panel_path, columns=HISTORY_COLUMNS)
    history = history_from_panel(panel, dealers)
    del panel
    return kpis, warnings_for_months(history, [m.label for m in warning_months])


def _database_month_figures(url: str, months: list[Month], *, settings: Settings) -> dict[str, MonthFigures]:
    """A PostgreSQL source, months → as :func:`month_figures`, with the validation, the panel and the
    KPIs computed inside the database: only counts, suspect rows and aggregates come back."""

    last = max(months, key=lambda m: m.label)

    def figures(validated, snapshot: str):  # computed in the snapshot the validation judged
        with tempfile.TemporaryDirectory(prefix="backtest-") as work:
            return _figures_in_engine(
                validated.engine_tables(url, snapshot=snapshot), validated.tables["dealers"], months, months, last,
                settings=settings, panel_path=Path(work) / "panel.parquet",
            )  # fmt: skip

    kpis, warnings = with_validated_postgres(url, figures)
    return {m.label: MonthFigures(kpis[m.label], *warnings[m.label]) for m in months}


def _first_order_date(accepted: dict[str, Path], month: Month) -> pd.Timestamp:
    """The first date among the accepted orders (a Parquet file) dated up to ``month``; NaT for none."""

    O = schema.Orders
    with duckdb.connect() as con:
        first = con.execute(
            f"SELECT min({O.order_date}) FROM read_parquet(?) WHERE {O.order_date} < ?",
            [str(accepted["orders"]), month.stop.to_pydatetime()],
        ).fetchone()[0]
    return pd.Timestamp(first) if first is not None else pd.NaT


@dataclass
class ReportFigures:
    """Everything of report month M that is computed over the whole network, once per run and
    shared by the CSV files, the deck and every report notebook (so they never disagree).

    ``panel``: dealer × month as of M; ``figures``: KPIs, alerts and health of M and of M−1
    (M−1 only when the data reach back to it); ``kpis``: the KPIs of each of the
    ``KPI_HISTORY`` months ending M that the data reach (the reports' trends and "same month
    last year").
    """

    month: str
    panel_data: pd.DataFrame | Path  # the panel, or the Parquet file holding it (read on first use)
    figures: dict[str, MonthFigures]
    kpis: dict[str, pd.DataFrame]

    @cached_property
    def panel(self) -> pd.DataFrame:
        return self.panel_data if isinstance(self.panel_data, pd.DataFrame) else self._read_panel(None)

    def panel_part(self, columns: list[str]) -> pd.DataFrame:
        """Only ``columns`` of :attr:`panel`, read alone from its file when the whole was not read."""
        if isinstance(self.panel_data, pd.DataFrame) or "panel" in self.__dict__:
            return self.panel[columns]
        return self._read_panel(columns)

    def _read_panel(self, columns: list[str] | None) -> pd.DataFrame:

        log_read("panel", columns)
        return read_panel(self.panel_data, columns=columns)

    def forget_panel(self) -> None:
        """Drop the panel if it was read from its file (it is read again when next asked for)."""
        if not isinstance(self.panel_data, pd.DataFrame):
            self.__dict__.pop("panel", None)

    @property
    def now(self) -> MonthFigures:
        return self.figures[self.month]

    @property
    def previous(self) -> MonthFigures | None:
        return self.figures.get(str(pd.Period(self.month, freq="M") - 1))


KPI_HISTORY = 13  # months of KPIs a run computes for its reports: M and the 12 before


def report_figures(tables: dict[str, pd.DataFrame], month: Month, *, settings: Settings) -> ReportFigures:
    """validated tables, report month M → :class:`ReportFigures` as of M's last day."""

    tables = as_of(tables, month)
    panel = dealer_month_panel(tables, as_of=month.label)
    kpis = kpis_by_month(tables, _data_months(tables, month, KPI_HISTORY), settings=settings)
    compared = with_previous(tables, month)
    warnings = warnings_by_month(tables, compared, panel=panel)
    figures = {m.label: MonthFigures(kpis[m.label], *warnings[m.label]) for m in compared}
    return ReportFigures(month=month.label, panel_data=panel, figures=figures, kpis=kpis)


def report_figures_from_files(
    accepted: dict[str, Path], month: Month, *, settings: Settings, panel_path: Path, work: Path
) -> ReportFigures:
    """Accepted tables as Parquet files, report month M → :class:`ReportFigures` as
    :func:`report_figures` gives them, computed by the engine from the files; the panel stays in
    its file ``panel_path`` until a reader asks for it."""
    first = _first_order_date(accepted, month)
    kpi_months, compared = _months_back(first, month, KPI_HISTORY), _months_back(first, month, 2)
    kpis, warnings = _engine_figures(accepted, kpi_months, compared, month, settings=settings,
                                     panel_path=panel_path, work=work)
    figures = {m.label: MonthFigures(kpis[m.label], *warnings[m.label]) for m in compared}
    return ReportFigures(month=month.label, panel_data=panel_path, figures=figures, kpis=kpis)


def _data_months(tables: dict[str, pd.DataFrame], m: Month, count: int) -> list[Month]:
    """The last ``count`` months ending ``m`` that the data reach (from the first order's month)."""
    return _months_back(tables["orders"][schema.Orders.order_date].min(), m, count)


def _months_back(first: pd.Timestamp, m: Month, count: int) -> list[Month]:
    """The last ``count`` months ending ``m`` from the month of ``first`` (the first order) on."""
    start = max(m.period - (count - 1), first.to_period("M")) if pd.notna(first) else m.period
    return [Month(str(p)) for p in pd.period_range(start, m.period, freq="M")]


def with_previous(tables: dict[str, pd.DataFrame], m: Month) -> list[Month]:
    """[M−1, M] when the data reach back to M−1 (so a report can say what changed), else [M]."""
    return _data_months(tables, m, 2)


FIGURES = ("panel", "kpis", "alerts", "health")  # what a run stores of its figures, by name


def figure_frames(figures: ReportFigures) -> tuple[dict[str, pd.DataFrame | Path], dict]:
    """:class:`ReportFigures` → (the frames to store beside the prepared tables, by name; the panel
    as its file when it is one; what the marker says of them): the other half of
    :func:`figures_from_store`."""
    frames = {
        "panel": figures.panel_data,
        "kpis": pd.concat(figures.kpis.values(), ignore_index=True),
        "alerts": pd.concat([f.alerts for f in figures.figures.values()], ignore_index=True),
        "health": pd.concat([f.health for f in figures.figures.values()], ignore_index=True),
    }
    return frames, {"month": figures.month, "months": sorted(figures.figures)}


def stored(figures: ReportFigures, folder: Path) -> None:
    """After the prepared folder was written: a panel file moved into it is read from there on."""
    if isinstance(figures.panel_data, Path):
        figures.panel_data = figure_path(folder, "panel")


def figures_from_store(stored_figures: PreparedFigures) -> ReportFigures:
    """The figures a run wrote beside a prepared source (files already checked) → :class:`ReportFigures`."""
    files, meta = stored_figures.files, stored_figures.meta
    # the panel (millions of rows for a large network) is read when a report asks for it
    frames = {name: files[name] if name == "panel" else pd.read_parquet(files[name]) for name in FIGURES}
    month, months = str(meta["month"]), [str(m) for m in meta["months"]]

    def of(frame: pd.DataFrame, label_: str) -> pd.DataFrame:
        return frame[frame["month"] == label_].reset_index(drop=True)

    kpis = {m: of(frames["kpis"], m) for m in sorted(set(frames["kpis"]["month"]))}
    per_month = {m: MonthFigures(kpis=kpis[m], alerts=of(frames["alerts"], m), health=of(frames["health"], m))
                 for m in months}
    return ReportFigures(month=month, panel_data=frames["panel"], figures=per_month, kpis=kpis)


def month_effort(tables: Mapping[str, pd.DataFrame], month: str, prospects: pd.DataFrame) -> pd.DataFrame:
    """``metrics.acquisition_vs_retention_effort`` of ``month`` on ``prospects`` (the caller's
    :func:`table_view` of them, already read), reading of the interactions (tens of millions of
    rows in a large network) only the columns and the 12 months it counts."""

    t12 = (pd.Period(month, freq="M") - 11).start_time
    interactions = table_part(tables, "interactions", [I.dealer_id, I.occurred_at, I.direction, I.duration_minutes], t12)
    return acquisition_vs_retention_effort(prospects, interactions, tables["dealers"], as_of=month)


def requests_closed(requests: pd.DataFrame | None) -> bool:
    """Whether service requests (the view the reports read: :func:`table_view`) record when they
    close: a ``closed_at`` on any of them. Without one every request counts as still open (none
    within its time limit, a backlog that only grows), which the reports then say."""
    closed = schema.ServiceRequests.closed_at
    return requests is not None and closed in requests and bool(requests[closed].notna().any())


def order_span(tables: Mapping[str, pd.DataFrame], period: pd.Period) -> tuple[pd.Period, pd.Timestamp | None]:
    """The month of the first order in ``tables`` (earlier months have no orders to compare;
    ``period`` when there is none) and the date of the last (None when there is none)."""
    dates = table_part(tables, "orders", [schema.Orders.order_date])[schema.Orders.order_date]
    if not len(dates):
        return period, None
    return dates.min().to_period("M"), dates.max()
