"""The monthly run: read → validate → figures as of the month → outputs → publish.

``run_month`` is what ``channel-analysis run`` calls. Everything is written to a
staging folder and published only when the whole run succeeded (see
:mod:`channel_analysis.publish`).

The reading, validation and computing stages import their engines (DuckDB through Ibis,
pandera, SciPy) when they run: a report notebook that imports :class:`Month` or
:class:`ReportFigures` from here, to read figures a run has already computed, does not wait
for them.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path

import pandas as pd

from channel_analysis import publish, schema
from channel_analysis.config import Settings
from channel_analysis.errors import ParameterError
from channel_analysis.faults import with_checkpoints
from channel_analysis.months import Month, as_of  # noqa: F401  (part of this module's API)

_VERSIONED = ("channel-analysis", "pandas", "numpy", "duckdb", "ibis-framework", "pandera", "pyarrow", "statsmodels")


def _checksums(data: str) -> dict[str, str]:
    """SHA-256 of every file the source was read from (a folder's table files, or the database file)."""
    from channel_analysis.io import parquet_parts  # here: the reports import this module, not the readers

    path = Path(data)
    if path.is_dir():
        names = {f"{t}." for t in schema.TABLES} | {"dealer_data."}
        files = [p for p in sorted(path.iterdir()) if p.is_file() and any(p.name.lower().startswith(n) for n in names)]
        # a table given as a folder of Parquet parts: every part, as the reader finds them
        folders = [p for p in sorted(path.iterdir()) if p.is_dir() and p.name.strip().lower() in schema.TABLES]
        files += [part for folder in folders for part in parquet_parts(folder)]
    else:
        files = [path] if path.is_file() else []
    root = path if path.is_dir() else path.parent
    return {p.relative_to(root).as_posix(): file_sha256(p) for p in files}


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:  # by blocks: a source file may be larger than memory
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _code_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
        return rev.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


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
    from channel_analysis.metrics.kpis import monthly_kpis
    from channel_analysis.panel import engine_tables

    bound, con = engine_tables(tables)
    return {m.label: monthly_kpis(bound, as_of=m.label, settings=settings, con=con) for m in months}


def warnings_by_month(
    tables: dict[str, pd.DataFrame], months: list[Month], *, panel: pd.DataFrame | None = None
) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Validated tables, months → each month's (alerts, dealer health), as of its end.

    One panel, as of the last month, serves every month: a month reads only its own past.
    ``panel``: that panel when the caller has it already.
    """
    from channel_analysis.early_warning import history_from_panel, warnings_for_months
    from channel_analysis.panel import dealer_month_panel

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
    import ibis

    from channel_analysis.panel import ibis_tables
    from channel_analysis.validate_stream import ENGINE_MEMORY, read_accepted

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
    from channel_analysis.early_warning import history_from_panel, warnings_for_months
    from channel_analysis.early_warning.signals import HISTORY_COLUMNS
    from channel_analysis.panel import read_panel, write_panel

    kpis = kpis_by_month(tables, kpi_months, settings=settings)
    write_panel(tables, as_of=last.label, path=panel_path, con=con)
    panel = read_panel(panel_path, columns=HISTORY_COLUMNS)
    history = history_from_panel(panel, dealers)
    del panel
    return kpis, warnings_for_months(history, [m.label for m in warning_months])


def _database_month_figures(url: str, months: list[Month], *, settings: Settings) -> dict[str, MonthFigures]:
    """A PostgreSQL source, months → as :func:`month_figures`, with the validation, the panel and the
    KPIs computed inside the database: only counts, suspect rows and aggregates come back."""
    from channel_analysis.validate_sql import with_validated_postgres

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
    import duckdb

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
        from channel_analysis.panel import read_panel
        from channel_analysis.report_data import log_read

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
    from channel_analysis.panel import dealer_month_panel

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


def write_month_tables(figures: MonthFigures, folder: Path) -> None:
    """kpis.csv, alerts.csv, alerts.xlsx and dealer_health.csv into ``folder``."""
    from channel_analysis.outputs import write_action_list, write_csv

    write_csv(figures.kpis, folder / "kpis.csv")
    write_action_list(figures.alerts, folder)
    write_csv(figures.health, folder / "dealer_health.csv")


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
    from channel_analysis.io import postgres_url, read_source
    from channel_analysis.validate import validate_source
    from channel_analysis.validate_stream import large_parquet, validate_parquet

    wanted = months_in(months)
    wanted[-1].check_ended()
    settings = settings or Settings()
    out = Path(out).absolute()  # notebooks run in another working directory
    large = large_parquet(data)
    if postgres_url(data):  # validated, summed and counted inside PostgreSQL
        figures = _database_month_figures(data, wanted, settings=settings)
    elif large is None:
        validated = validate_source(read_source(data))
        figures = month_figures(validated.tables, wanted, settings=settings)
    else:  # tens of millions of rows: validated a slice at a time, computed from files by the engine
        with tempfile.TemporaryDirectory(prefix="backtest-") as work:
            validated = validate_parquet(*large, Path(work))
            figures = month_figures_from_files(validated.accepted, wanted, settings=settings, work=Path(work))
    written = []
    for m in wanted:
        with publish.month_lock(out, m.label):
            staging = publish.staging_dir(out, m.label)
            write_month_tables(figures[m.label], staging)
            written.append(publish.publish(staging, out, m.label))
        if progress:
            progress(m.label)
    return written


REPORTS = ("dealer_health", "acquisition_vs_retention", "sales_managers", "service_flow", "events")
LANDING = "index"  # notebooks/index.ipynb → index.html, executed last
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _landing_title(m: Month, lang: str) -> str:
    from channel_analysis.labels import label

    return f"{label('index_title', lang)} — {m.label}"


def _page(name: str, prepared: Path, m: Month, lang: str, staging: Path, work: Path, *, title: str) -> None:
    """Execute ``notebooks/<name>.ipynb`` on the prepared source; export it as ``<name>.html``."""
    from channel_analysis.report import execute_report, export_html

    executed = staging / "notebooks" / f"{name}.ipynb"
    executed.parent.mkdir(exist_ok=True)
    parameters = {"data": str(prepared), "month": m.label, "lang": lang}
    execute_report(NOTEBOOKS / f"{name}.ipynb", parameters, workdir=work, output_notebook=executed)
    export_html(executed, staging / f"{name}.html", title=title, lang=lang)


def _reports(prepared: Path, m: Month, lang: str, staging: Path, work: Path, progress) -> None:
    """Execute each report notebook on the prepared source and export it as HTML into ``staging``."""
    from channel_analysis.labels import label

    for name in REPORTS:
        progress(f"report {name}")
        _page(name, prepared, m, lang, staging, work, title=f"{label(name, lang)} — {m.label}")


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


def _deck(tables, m: Month, settings: Settings, figures: ReportFigures, staging: Path, *, lang: str, template) -> None:
    from channel_analysis.deck import DeckInputs, build_deck

    now, previous = figures.now, figures.previous
    from channel_analysis.deck_data import PANEL_COLUMNS

    inputs = DeckInputs(tables, m.label, settings, now.kpis, now.alerts, now.health,
                        panel=figures.panel_part(PANEL_COLUMNS),
                        previous=previous if previous is not None else False)
    build_deck(inputs, staging / "deck.pptx", lang=lang, template=Path(template) if template else None)


def run_month(
    data: str,
    month: str,
    out: str | Path,
    *,
    strict: bool = False,
    lang: str = "en",
    settings: Settings | None = None,
    deck_template: str | Path | None = None,
    progress=None,
    warn=None,
) -> Path:
    """Run month ``month`` on source ``data`` and publish ``out/month``; returns that folder.
    ``progress(step)`` hears each step, ``warn(message)`` what the reader should know but does
    not stop the run (no order dated in the month: the month's data may not be loaded yet).

    Order: read and validate (an unusable source stops here, exit status 2; a large Parquet
    source is validated a slice at a time and a PostgreSQL one inside the server, their accepted
    rows going to files the figures are computed from), the month's tables, the report
    notebooks, the landing page and manifest; then the staging folder is published in one rename. Any failure keeps the last good
    publication and moves the staging folder to ``out/.failed/``.
    """
    from channel_analysis.io import postgres_url, read_source
    from channel_analysis.report_data import write_prepared_source
    from channel_analysis.validate import validate_source, write_quality
    from channel_analysis.validate_sql import validate_postgres
    from channel_analysis.validate_stream import large_parquet, validate_parquet

    progress = progress or (lambda step: None)
    progress = with_checkpoints(progress)  # each step is also a kill point for the tests (faults.py)
    warn = warn or (lambda message: None)
    m = Month.parse(month).check_ended()
    if lang not in ("en", "zh"):
        raise ParameterError(f"--lang '{lang}' is not supported: use en or zh")
    out = Path(out).absolute()  # notebooks run in another working directory
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    with publish.month_lock(out, m.label), publish.scratch_dir(out, m.label) as scratch:
        # the lock also repairs what a killed run left
        in_files = True  # the accepted rows go to files and the figures are computed from them
        if postgres_url(data):  # judged inside the server, the accepted rows streamed to files
            progress("validating")
            validated = validate_postgres(data, strict=strict, accepted_to=scratch / "accepted")
            location = validated.location
        elif (large := large_parquet(data)) is not None:  # tens of millions of rows: a slice at a time
            progress("validating")
            location = large[0]
            validated = validate_parquet(*large, scratch, strict=strict)
        else:
            in_files = False
            progress("reading the source")
            source = read_source(data)
            location = source.location
            progress("validating")
            validated = validate_source(source, strict=strict)
            del source
        if not validated.rows_after("orders", m.start) - validated.rows_after("orders", m.stop):
            warn(
                f"no order in the source is dated in {m.label}: if the month's orders are not loaded yet, every "
                f"figure of the month reads as a fall; load them and run {m.label} again"
            )
        staging = publish.staging_dir(out, m.label)
        work = staging.with_name(staging.name + "-work")
        try:
            quality = write_quality(validated, staging, month_end=m.end)
            progress("figures of the month")
            settings = settings or Settings()
            if not in_files:
                figures = report_figures(validated.tables, m, settings=settings)
                tables = validated.tables
            else:
                figures = report_figures_from_files(validated.accepted, m, settings=settings,
                                                    panel_path=scratch / "panel.parquet", work=scratch)
                tables = validated.accepted
            write_month_tables(figures.now, staging)
            prepared = write_prepared_source(tables, work / "source", quality=quality, figures=figures)
            if in_files:  # the deck reads the tables it shows from the prepared files
                from channel_analysis.report_data import load_source

                tables = load_source(prepared).tables
            progress("management deck")
            _deck(tables, m, settings, figures, staging, lang=lang, template=deck_template)
            del tables, validated  # the notebooks run in kernels of their own: hold no table meanwhile
            figures.forget_panel()
            _reports(prepared, m, lang, staging, work, progress)
            progress("landing page")
            _page(LANDING, prepared, m, lang, staging, work, title=_landing_title(m, lang))
            publish.write_json(
                staging / "manifest.json",
                {
                    "parameters": {
                        "data": location,
                        "month": m.label,
                        "strict": strict,
                        "lang": lang,
                        "deck_template": Path(deck_template).name if deck_template else None,
                    },
                    "input_checksums": _checksums(data),
                    "row_counts": quality.drop(columns="rows_after_month").set_index("table").to_dict("index"),
                    "versions": _versions(),
                    "code_revision": _code_revision(),
                    "started": started,
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                },
            )
        except BaseException as exc:
            kept = publish.keep_failed(staging, out, m.label)
            if kept and exc.args and isinstance(exc.args[0], str):
                # messages name files in the staging folder; point them where the files now are
                exc.args = (exc.args[0].replace(str(staging), str(kept)), *exc.args[1:])
            if isinstance(exc, OSError):  # a full or read-only disk: name the files the run was writing
                exc.filename = str(exc.filename or staging).replace(str(staging), str(kept or staging))
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        progress("publishing")
        return publish.publish(staging, out, m.label)
