"""The backtest: for every month of a range, as of that month's end, the contract's tables
(``kpis.csv``, ``alerts.csv`` and ``.xlsx``, ``dealer_health.csv``) exactly as a run writes
them, without notebooks or HTML: the fast path for checking the alerts against history."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from channel_analysis.config import Settings
from channel_analysis.errors import ParameterError
from channel_analysis.figures.compute import (
    MonthTables,
    tables_by_month,
    tables_by_month_from_files,
    tables_by_month_in_postgres,
)
from channel_analysis.months import Month
from channel_analysis.run import publish
from channel_analysis.run.outputs import alerts_table, health_table, write_action_list, write_csv
from channel_analysis.sources.postgres import postgres_url
from channel_analysis.sources.read import read_source
from channel_analysis.validate.memory import validate_source
from channel_analysis.validate.stream import large_parquet, validate_parquet


def write_month_tables(figures: MonthTables, folder: Path) -> None:
    """kpis.csv, alerts.csv, alerts.xlsx and dealer_health.csv into ``folder``."""
    write_csv(figures.kpis, folder / "kpis.csv")
    write_action_list(alerts_table(figures.alerts), folder)
    write_csv(health_table(figures.health), folder / "dealer_health.csv")


def months_in(spec: str) -> list[Month]:
    """``"2025-01..2025-06"`` → the months from the first to the last, inclusive."""
    first, sep, last = spec.partition("..")
    if not sep:
        raise ParameterError(f"--months '{spec}' is not a range: write it as YYYY-MM..YYYY-MM")
    a, b = Month.parse(first.strip()), Month.parse(last.strip())
    if a.label > b.label:
        raise ParameterError(f"--months '{spec}': the first month is after the last")
    return [Month(p.strftime("%Y-%m")) for p in pd.period_range(a.period, b.period, freq="M")]


def backtest(data: str, months: str, out: str | Path, *, settings: Settings | None = None, progress=None) -> list[Path]:
    """For every month of the range, as of its end: ``out/YYYY-MM/`` with kpis.csv, alerts.csv
    (and .xlsx) and dealer_health.csv, exactly as a run writes them; no notebooks, no HTML."""

    wanted = months_in(months)
    wanted[-1].check_ended()
    settings = settings or Settings()
    out = Path(out).absolute()  # notebooks run in another working directory
    large = large_parquet(data)
    if postgres_url(data):  # validated, summed and counted inside PostgreSQL
        figures = tables_by_month_in_postgres(data, wanted, settings=settings)
    elif large is None:
        validated = validate_source(read_source(data))
        figures = tables_by_month(validated.tables, wanted, settings=settings)
    else:  # tens of millions of rows: validated a slice at a time, computed from files by the engine
        with tempfile.TemporaryDirectory(prefix="backtest-") as work:
            validated = validate_parquet(*large, Path(work))
            figures = tables_by_month_from_files(validated.accepted, wanted, settings=settings, work=Path(work))
    written = []
    for m in wanted:
        with publish.month_lock(out, m.label):
            staging = publish.staging_dir(out, m.label)
            write_month_tables(figures[m.label], staging)
            written.append(publish.publish(staging, out, m.label))
        if progress:
            progress(m.label)
    return written
