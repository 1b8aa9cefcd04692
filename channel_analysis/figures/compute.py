"""How a month's figures are computed: the contract's tables (KPIs, alerts, dealer health) of
any months, as of each month's end, from validated frames in memory, from the accepted Parquet
files of a large source, or inside PostgreSQL; one panel, as of the last month, serves every
month (a month reads only its own past)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis
import pandas as pd

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.early_warning import history_from_panel, warnings_for_months
from channel_analysis.early_warning.signals import HISTORY_COLUMNS
from channel_analysis.metrics.kpis import monthly_kpis
from channel_analysis.months import Month, as_of
from channel_analysis.panel import dealer_month_panel, read_panel, write_panel
from channel_analysis.sources.engine import engine_tables, ibis_tables
from channel_analysis.validate.postgres import with_validated_postgres
from channel_analysis.validate.stream import ENGINE_MEMORY, read_accepted

KPI_HISTORY = 13  # months of KPIs a run computes for its reports: M and the 12 before


@dataclass
class MonthTables:
    """The contract's three tables of one month: ``kpis.csv``, the alerts (``alerts.csv``) and
    dealer health (``dealer_health.csv``), as the early warning gives them (the alerts' reasons and
    what moved each score as figures, rendered by the text layer)."""

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


def tables_by_month(
    tables: dict[str, pd.DataFrame],
    months: list[Month],
    *,
    settings: Settings,
    panel: pd.DataFrame | None = None,
) -> dict[str, MonthTables]:
    """Validated tables, months → each month's KPIs, alerts and dealer health, as of its end
    (``panel``: the dealer × month panel as of the last month, when the caller has it)."""
    kpis = kpis_by_month(tables, months, settings=settings)
    warnings = warnings_by_month(tables, months, panel=panel)
    return {m.label: MonthTables(kpis[m.label], *warnings[m.label]) for m in months}


def tables_by_month_from_files(
    accepted: dict[str, Path], months: list[Month], *, settings: Settings, work: Path
) -> dict[str, MonthTables]:
    """Accepted tables as Parquet files (``validate_stream.validate_parquet``), months → as
    :func:`tables_by_month`, for sources too large for memory: the engine reads the files, the panel
    goes to a file in ``work`` and the early warning reads only the columns it uses."""
    last = max(months, key=lambda m: m.label)
    kpis, warnings = _engine_figures(accepted, months, months, last, settings=settings,
                                     panel_path=work / "panel.parquet", work=work)
    return {m.label: MonthTables(kpis[m.label], *warnings[m.label]) for m in months}


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


def tables_by_month_in_postgres(url: str, months: list[Month], *, settings: Settings) -> dict[str, MonthTables]:
    """A PostgreSQL source, months → as :func:`tables_by_month`, with the validation, the panel and the
    KPIs computed inside the database: only counts, suspect rows and aggregates come back."""
    last = max(months, key=lambda m: m.label)

    def figures(validated, snapshot: str):  # computed in the snapshot the validation judged
        with tempfile.TemporaryDirectory(prefix="backtest-") as work:
            return _figures_in_engine(
                validated.engine_tables(url, snapshot=snapshot), validated.tables["dealers"], months, months, last,
                settings=settings, panel_path=Path(work) / "panel.parquet",
            )  # fmt: skip

    kpis, warnings = with_validated_postgres(url, figures)
    return {m.label: MonthTables(kpis[m.label], *warnings[m.label]) for m in months}


def _first_order_date(accepted: dict[str, Path], month: Month) -> pd.Timestamp:
    """The first date among the accepted orders (a Parquet file) dated up to ``month``; NaT for none."""
    O = schema.Orders
    with duckdb.connect() as con:
        first = con.execute(
            f"SELECT min({O.order_date}) FROM read_parquet(?) WHERE {O.order_date} < ?",
            [str(accepted["orders"]), month.stop.to_pydatetime()],
        ).fetchone()[0]
    return pd.Timestamp(first) if first is not None else pd.NaT


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
