"""What a report notebook loads, in one call: ``month_data(data, month, lang=lang)``.

A monthly run validates its source once and writes the accepted rows to a *prepared
folder* (:func:`write_prepared_source`): one Parquet file per table, typed exactly as
:func:`~channel_analysis.validate.validate_source` gives them, and a marker
``.validated.json`` with each file's row count and SHA-256. Beside them it writes the figures
it computed for its month (:class:`~channel_analysis.monthly.ReportFigures`: the dealer ×
month panel, the KPIs of the last 13 months, alerts and dealer health of M and M−1), checked
the same way. The report notebooks read that folder directly instead of validating the source
and computing those figures once per notebook; given anything else (a folder of CSV files, a
database, a URL, or a prepared folder asked about another month) :func:`month_data` reads,
validates and computes as the command line does.

:class:`MonthData` holds the tables as of the report month M and gives, computing them only
when the run has not and only when asked, what every report shows: the dealer × month panel,
the contract's KPIs, alerts and dealer health of M and of M−1
(:func:`~channel_analysis.monthly.month_figures`, so the notebooks and the CSV files never
disagree), the KPIs of any other month, the headline figures and "what changed since last
month" in the report's language.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.errors import ChannelAnalysisError, ParameterError
from channel_analysis.labels import check_lang, label, table_names
from channel_analysis.monthly import (
    Month,
    MonthFigures,
    ReportFigures,
    as_of,
    file_sha256,
    kpis_by_month,
    month_figures,
    with_previous,
)

if TYPE_CHECKING:
    from channel_analysis.validate_stream import Where

MARKER = ".validated.json"
PREPARED_FORMAT = 1
FIGURES = ("panel", "kpis", "alerts", "health")  # figures.<name>.parquet
TOPICS = ("dealer_health", "acquisition_vs_retention", "sales_managers", "service_flow", "events")
_TOPIC_ALIASES = {"costs": "acquisition_vs_retention", "managers": "sales_managers", "service": "service_flow"}
MONEY_METRICS = ("revenue", "revenue_t12", "acquisition_spend_t12", "cac_t12", "retention_spend_t12",
                 "retention_cost_per_dealer_t12", "event_cost_per_attendee_t12")  # fmt: skip
SHARE_METRICS = ("callback_coverage", "visit_coverage_2m", "first_order_only_share", "prospect_conversion_t12",
                 "sla_compliance", "via_sales_manager_share")  # fmt: skip
MINUS = "\u2212"


class PreparedSourceWarning(UserWarning):
    """A prepared folder did not match its marker (a file changed or is missing); it was validated again."""


# --------------------------------------------------------------------------- the prepared folder


def write_prepared_source(
    tables: dict[str, pd.DataFrame | Path],
    folder: str | Path,
    *,
    quality: pd.DataFrame | None = None,
    figures: ReportFigures | None = None,
) -> Path:
    """validated tables → ``folder`` with ``<table>.parquet`` per table and the marker ``.validated.json``;
    returns ``folder``.

    ``figures``: the run's :class:`~channel_analysis.monthly.ReportFigures` of month M, written
    beside the tables (``figures.<panel|kpis|alerts|health>.parquet``), so that every report
    notebook of M reads them instead of computing them again; reports of another month ignore them.

    Only the contract's columns are written (extra columns of the source are dropped), with the
    types validation gave them; each file keeps its rows' ``source_row``. A table given as a path
    (an accepted file of ``validate_stream.validate_parquet``) is moved into the folder as it is. The folder is itself a
    contract source (``channel-analysis validate --data FOLDER`` accepts it). It must be new,
    empty or an earlier prepared folder, which is replaced; the marker is written last, so a
    folder whose writing was interrupted is never taken for a prepared one.
    """
    folder = Path(folder)
    unknown = sorted(set(tables) - set(schema.TABLES))
    if unknown:
        raise ValueError(f"not contract tables: {', '.join(unknown)}")
    missing = [t for t in schema.REQUIRED_TABLES if t not in tables]
    if missing:
        raise ValueError(f"required table(s) missing: {', '.join(missing)}")
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / MARKER
    if marker.exists():
        previous = _read_marker(folder) or {}
        for entry in [*previous.get("tables", {}).values(), *previous.get("figures", {}).get("files", {}).values()]:
            (folder / entry.get("file", "")).unlink(missing_ok=True)
        marker.unlink()
    leftovers = [p.name for p in folder.iterdir()]
    if leftovers:
        raise ChannelAnalysisError(
            f"{folder} is not empty ({', '.join(sorted(leftovers)[:5])}): a prepared source needs a folder of its own"
        )
    entries = {}
    for name in schema.TABLES:  # contract order
        if name not in tables:
            continue
        frame = tables[name]
        path = folder / f"{name}.parquet"
        if isinstance(frame, Path):
            shutil.move(frame, path)
        else:
            columns = [c for c in schema.columns_of(name) if c in frame.columns]
            # an unnamed index is stored as pandas' "__index_level_0__": no clash with a contract column
            frame[columns].rename_axis(None).to_parquet(path, index=True)
        entries[name] = {"file": path.name, "rows": _rows_in(path), "sha256": file_sha256(path)}
    content = {"format": PREPARED_FORMAT, "written_by": f"channel-analysis {_version()}", "tables": entries}
    if figures is not None:
        content["figures"] = {"month": figures.month, "months": sorted(figures.figures),
                              "files": _write_figures(figures, folder)}
    if quality is not None:
        content["quality"] = json.loads(quality.to_json(orient="records"))
    partial = folder / (MARKER + ".partial")
    partial.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, marker)
    return folder


def _rows_in(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(path).num_rows


def _write_figures(figures: ReportFigures, folder: Path) -> dict[str, dict]:
    frames = {
        "panel": figures.panel_data,  # a file (large sources) is moved in as it is
        "kpis": pd.concat(figures.kpis.values(), ignore_index=True),
        "alerts": pd.concat([f.alerts for f in figures.figures.values()], ignore_index=True),
        "health": pd.concat([f.health for f in figures.figures.values()], ignore_index=True),
    }
    entries = {}
    for name in FIGURES:
        path = folder / f"figures.{name}.parquet"
        if isinstance(frames[name], Path):
            shutil.move(frames[name], path)
            figures.panel_data = path  # moved: the figures read their panel from here from now on
        else:
            frames[name].to_parquet(path, index=False)
        entries[name] = {"file": path.name, "rows": _rows_in(path), "sha256": file_sha256(path)}
    return entries


def _read_figures(folder: Path, content: dict) -> ReportFigures | None:
    """The figures a run wrote beside a prepared source (checked like its tables), else None."""
    listed = content.get("figures")
    if not listed:
        return None
    frames = {}
    for name in FIGURES:
        entry = listed["files"].get(name) or {}
        # the panel (millions of rows for a large network) is read when a report asks for it
        frames[name] = _checked_file(folder, entry) if name == "panel" else pd.read_parquet(_checked_file(folder, entry))
    month, months = str(listed["month"]), [str(m) for m in listed["months"]]

    def of(frame: pd.DataFrame, label_: str) -> pd.DataFrame:
        return frame[frame["month"] == label_].reset_index(drop=True)

    kpis = {m: of(frames["kpis"], m) for m in sorted(set(frames["kpis"]["month"]))}
    per_month = {m: MonthFigures(kpis=kpis[m], alerts=of(frames["alerts"], m), health=of(frames["health"], m))
                 for m in months}
    return ReportFigures(month=month, panel_data=frames["panel"], figures=per_month, kpis=kpis)


def _checked_file(folder: Path, entry: dict) -> Path:
    """A file listed in the marker → its path; ChannelAnalysisError when it is missing or changed
    (its checksum, or its row count from the file's footer)."""
    path = folder / str(entry.get("file"))
    if not path.is_file():
        raise ChannelAnalysisError(f"prepared source {folder}: {path.name} is missing")
    if file_sha256(path) != entry.get("sha256"):
        raise ChannelAnalysisError(f"prepared source {folder}: {path.name} changed since it was written (checksum)")
    rows = _rows_in(path)
    if rows != entry.get("rows"):
        raise ChannelAnalysisError(f"prepared source {folder}: {path.name} has {rows} rows, "
                                   f"the marker says {entry.get('rows')}")
    return path


class PreparedTables(Mapping):
    """The tables of a prepared folder, each read when first asked for (files already checked
    against the marker): a report reads only the tables it shows, so a table of tens of millions
    of rows costs nothing to the reports that do not use it. ``as_of(month)`` gives the same
    tables cut at the month's last day as they are read."""

    def __init__(self, files: dict[str, Path], cutoff: pd.Timestamp | None = None):
        self._files, self._cutoff, self._read = files, cutoff, {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._read:
            self._read[name] = _prepared_table(self._files[name], self._cutoff)
        return self._read[name]

    def __contains__(self, name: object) -> bool:  # Mapping's own would read the table to find out
        return name in self._files

    def __iter__(self):
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def as_of(self, month: Month) -> PreparedTables:
        cutoff = month.stop
        return PreparedTables(self._files, cutoff if self._cutoff is None else min(cutoff, self._cutoff))

    def rows(self, name: str) -> int:
        """The rows of table ``name`` (dated before the cutoff), counted in its file without reading it."""
        if name in self._read:
            return len(self._read[name])
        import pyarrow.dataset as ds

        data, date_col = ds.dataset(self._files[name]), schema.date_column(name)
        if self._cutoff is None or not date_col:
            return data.count_rows()
        return data.count_rows(filter=ds.field(date_col) < self._cutoff.to_pydatetime())

    def columns(self, name: str) -> list[str]:
        """The columns of table ``name`` (read from its file's schema)."""
        import pyarrow.parquet as pq

        if name in self._read:
            return list(self._read[name].columns)
        return [c for c in pq.read_schema(self._files[name]).names if c in schema.columns_of(name)]

    def part(self, name: str, columns: list[str], since: pd.Timestamp | None = None,
             where: Where | None = None) -> pd.DataFrame:  # fmt: skip
        """``columns`` of table ``name`` (those it has), rows dated on or after ``since`` and matching
        one of ``where``'s alternatives: read from its file alone when the table was not read whole,
        and not kept."""
        if name in self._read:
            return _part_of(self._read[name], name, columns, since, where)
        return _prepared_table(self._files[name], self._cutoff, columns=columns, since=since, where=where)


def table_rows(tables: Mapping[str, pd.DataFrame], name: str) -> int:
    """The rows of table ``name``, without reading a table of a prepared folder (:meth:`PreparedTables.rows`)."""
    return tables.rows(name) if isinstance(tables, PreparedTables) else len(tables[name])


def table_part(tables: Mapping[str, pd.DataFrame], name: str, columns: list[str],
               since: pd.Timestamp | None = None, where: Where | None = None) -> pd.DataFrame:  # fmt: skip
    """``columns`` of table ``name`` (those it has) and its rows dated on or after ``since`` (by the
    table's own date) and, with ``where``, matching one of its alternatives (a dict of column →
    values, every column holding one of its values): what a section needs of a large table, without reading the whole of it from a prepared folder
    (:meth:`PreparedTables.part`)."""
    if isinstance(tables, PreparedTables):
        return tables.part(name, columns, since, where)
    return _part_of(tables[name], name, columns, since, where)


# The columns (and rows) the sales-manager rules read (``metrics.rule_breakers``, through the
# scorecard too): of the interactions only follow-up calls and visits count.
I = schema.Interactions  # noqa: E741 (the schema's name, as in the metrics)
_RULE_PARTS = {
    "orders": ([schema.Orders.dealer_id, schema.Orders.order_date, schema.Orders.amount], None),
    "interactions": ([I.dealer_id, I.occurred_at, I.kind, I.direction],
                     [{I.kind: ["phone"], I.direction: ["outbound"]}, {I.kind: ["visit"]}]),
}  # fmt: skip


class _Narrowed(Mapping):
    """``tables`` with some of them cut to the columns a metric reads (each part read once, when
    first asked for): the metric stays a function of tables, the large ones are never read whole."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], parts: dict[str, tuple[list[str], Where | None]]):
        self._tables, self._wanted, self._parts = tables, parts, {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._wanted:
            return self._tables[name]
        if name not in self._parts:
            columns, where = self._wanted[name]
            self._parts[name] = table_part(self._tables, name, columns, where=where)
        return self._parts[name]

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def __iter__(self):
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


def rule_tables(tables: Mapping[str, pd.DataFrame]) -> Mapping[str, pd.DataFrame]:
    """``tables`` for ``rule_breakers`` and ``sales_manager_scorecard``: the orders and interactions
    cut to the columns the rules read, the interactions to the follow-up calls and visits."""
    return _Narrowed(tables, {n: part for n, part in _RULE_PARTS.items() if n in tables})


# What the reports of a month M read of the other large tables: the columns their figures use
# and, for the figures that look back at most 13 months (M−1's trailing 12 months included), the
# rows that can count in those months. The equivalence of each figure on the whole table and on
# this part is tested (tests/test_views.py).
VIEW_MONTHS = 13
R, S, X = schema.Prospects, schema.ServiceRequests, schema.Expenses
_VIEW_COLUMNS = {
    "prospects": [R.region, R.sales_manager_id, R.first_contact_date, R.stage_reached, R.status, R.closed_date,
                  R.touches, R.hours_spent],
    "service_requests": [S.dealer_id, S.process, S.opened_at, S.closed_at, S.department, S.via_sales_manager,
                         S.satisfaction],
    "expenses": [X.spent_on, X.amount, X.purpose, X.category, X.region, X.dealer_id],  # every year: CAC by quarter
    "event_attendance": list(schema.columns_of("event_attendance")),  # every event: the event model looks back
}  # fmt: skip


def view_rows(name: str, month: Month | pd.Period, settings: Settings, columns: list[str]) -> Where | None:
    """The rows of table ``name`` (holding ``columns``) that can count in the :data:`VIEW_MONTHS`
    months ending ``month``, as a :data:`~channel_analysis.validate_stream.Where`; None for every row.

    - prospects: those open at the window's start or closed in it (a funnel of T12 counts the
      prospects closed in it and those open at its end);
    - service_requests: those opened in the window or early enough for their time limit to end in
      it, and those not closed before it began (backlog, closings, scores).
    """
    from channel_analysis.validate_stream import OnOrAfter

    period = month.period if isinstance(month, Month) else pd.Period(month, freq="M")
    start = (period - (VIEW_MONTHS - 1)).start_time
    if name == "prospects":
        return [{R.closed_date: OnOrAfter(start, or_missing=True)}]
    if name == "service_requests" and S.closed_at in columns:  # without closing times every request stays open
        longest = pd.Timedelta(hours=max(settings.sla_hours.values(), default=0))
        return [{S.opened_at: OnOrAfter(start - longest)}, {S.closed_at: OnOrAfter(start, or_missing=True)}]
    return None


def table_view(tables: Mapping[str, pd.DataFrame], name: str, month: Month | pd.Period,
               settings: Settings) -> pd.DataFrame:  # fmt: skip
    """What the reports of ``month`` read of table ``name`` (prospects, service_requests, expenses,
    event_attendance): its columns they use and its rows that can count in the months they show
    (:func:`view_rows`), read alone from a prepared folder, never the whole table."""
    columns = [c for c in _VIEW_COLUMNS[name] if c in table_columns(tables, name)]
    return table_part(tables, name, columns, where=view_rows(name, month, settings, columns))


def table_columns(tables: Mapping[str, pd.DataFrame], name: str) -> list[str]:
    """The columns of table ``name``, without reading a table of a prepared folder."""
    if isinstance(tables, PreparedTables):
        return tables.columns(name)
    return list(tables[name].columns)


def month_effort(tables: Mapping[str, pd.DataFrame], month: str, prospects: pd.DataFrame) -> pd.DataFrame:
    """``metrics.acquisition_vs_retention_effort`` of ``month`` on ``prospects`` (the caller's
    :func:`table_view` of them, already read), reading of the interactions (tens of millions of
    rows in a large network) only the columns and the 12 months it counts."""
    from channel_analysis.metrics.funnel import acquisition_vs_retention_effort

    t12 = (pd.Period(month, freq="M") - 11).start_time
    interactions = table_part(tables, "interactions", [I.dealer_id, I.occurred_at, I.direction, I.duration_minutes], t12)
    return acquisition_vs_retention_effort(prospects, interactions, tables["dealers"], as_of=month)


def _part_of(frame: pd.DataFrame, name: str, columns: list[str], since: pd.Timestamp | None,
             where: Where | None = None) -> pd.DataFrame:  # fmt: skip
    date_col = schema.date_column(name)
    if since is not None and date_col:
        frame = frame[frame[date_col] >= since]
    if where is not None:
        from channel_analysis.validate_stream import rows_matching

        frame = frame[rows_matching(frame, where)]
    return frame[[c for c in columns if c in frame]]


READ_LOG = "CHANNEL_ANALYSIS_READ_LOG"  # a file: every read of a prepared table appends a line to it


def log_read(table: str, columns: list[str] | None, since: pd.Timestamp | None = None, where: Where | None = None) -> None:
    """With :data:`READ_LOG` set, one JSON line per read of a prepared table or of the panel's file,
    from whichever process (the run or a report's kernel) reads it: what a run reads, to diagnose
    its memory (and test it)."""
    log = os.environ.get(READ_LOG)
    if log:
        line = {"table": table, "columns": columns, "since": None if since is None else str(since),
                "where": where, "pid": os.getpid()}  # fmt: skip
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, default=str) + "\n")


def _prepared_table(path: Path, cutoff: pd.Timestamp | None, *, columns: list[str] | None = None,
                    since: pd.Timestamp | None = None, where: Where | None = None) -> pd.DataFrame:  # fmt: skip
    """A table file of a prepared folder → its frame as validation gave it, rows dated before
    ``cutoff`` (and on or after ``since``, and matching one of ``where``'s alternatives);
    only ``columns`` (those it has) when given."""
    import pyarrow.parquet as pq

    log_read(path.stem, columns, since, where)

    from channel_analysis.io import arrow_to_pandas
    from channel_analysis.validate_stream import read_accepted, row_filters

    names = pq.read_schema(path).names
    kept = None if columns is None else [c for c in columns if c in names]
    if "source_row" in names:  # an accepted file of a large source, moved in
        return read_accepted(path, kept, before=cutoff, since=since, where=where)
    filters = row_filters(path.stem, cutoff, since, where)
    data = pq.read_table(path, columns=kept, filters=filters, use_pandas_metadata=True)
    return arrow_to_pandas(data).rename_axis("source_row")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("channel-analysis")
    except metadata.PackageNotFoundError:
        return "unknown"


def _read_marker(folder: Path) -> dict | None:
    try:
        content = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def is_prepared(folder: str | Path) -> bool:
    """True when ``folder`` has a prepared source's marker (whether or not its files still match)."""
    return Path(folder).is_dir() and (Path(folder) / MARKER).is_file()


def read_prepared_source(folder: str | Path) -> dict[str, pd.DataFrame]:
    """A prepared folder → its tables, as validation gave them (index ``source_row``).

    Raises :class:`~channel_analysis.errors.ChannelAnalysisError` naming the file when the
    marker is unreadable, a file is missing, changed (checksum or row count) or unexpected.
    """
    return dict(_read_prepared(Path(folder))[0])


def _read_prepared(folder: Path) -> tuple[dict[str, pd.DataFrame], ReportFigures | None, dict]:
    """A prepared folder → (its tables, the figures written with them or None, the marker)."""
    content = _read_marker(folder)
    if content is None or content.get("format") != PREPARED_FORMAT or not isinstance(content.get("tables"), dict):
        raise ChannelAnalysisError(f"{folder / MARKER} is not a prepared-source marker this version can read")
    entries = content["tables"]
    figure_files = (content.get("figures") or {}).get("files", {})
    listed = {entry.get("file") for entry in [*entries.values(), *figure_files.values()]}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed and p.name != MARKER)
    if extra:
        raise ChannelAnalysisError(f"prepared source {folder} holds files its marker does not list: {', '.join(extra)}")
    files = {}
    for name, entry in entries.items():
        if name not in schema.TABLES:
            raise ChannelAnalysisError(f"prepared source {folder}: '{name}' is not a contract table")
        files[name] = _checked_file(folder, entry)
    missing = [t for t in schema.REQUIRED_TABLES if t not in files]
    if missing:
        raise ChannelAnalysisError(f"prepared source {folder} lacks the required table(s) {', '.join(missing)}")
    tables = PreparedTables({name: files[name] for name in schema.TABLES if name in files})
    return tables, _read_figures(folder, content), content


@dataclass(frozen=True)
class LoadedSource:
    """Validated tables and where they came from."""

    location: str
    tables: dict[str, pd.DataFrame]
    prepared: bool  # read from a prepared folder (no validation needed)
    rows_quarantined: int = 0  # rows validation set aside (0 for a prepared folder)
    quality: pd.DataFrame | None = None  # rows read, accepted, quarantined per table, when known
    figures: ReportFigures | None = None  # what the run computed for its month (prepared folders only)


def load_source(data: str | Path) -> LoadedSource:
    """A prepared folder whose files match their marker → its tables, read directly; anything
    else (or a prepared folder that does not match, with a :class:`PreparedSourceWarning`) →
    ``read_source`` + ``validate_source``, as the command line does."""
    if isinstance(data, (str, Path)) and "://" not in str(data) and is_prepared(data):
        try:
            tables, figures, marker = _read_prepared(Path(data))
            quality = pd.DataFrame(marker["quality"]) if marker.get("quality") else None
            rows = int(quality["rows_quarantined"].sum()) if quality is not None else 0
            return LoadedSource(str(data), tables, prepared=True, rows_quarantined=rows, quality=quality,
                                figures=figures)
        except ChannelAnalysisError as exc:
            warnings.warn(f"{exc}; validating the folder as an ordinary source instead", PreparedSourceWarning,
                          stacklevel=2)
    from channel_analysis.io import read_source
    from channel_analysis.validate import validate_source

    from channel_analysis.validate import data_quality

    validated = validate_source(read_source(data))
    return LoadedSource(validated.location, validated.tables, prepared=False,
                        rows_quarantined=validated.quarantined_total, quality=data_quality(validated))


# --------------------------------------------------------------------------- words and numbers


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value)) or pd.isna(value)


def fmt_money(value: float, lang: str = "en") -> str:
    """``¥1.2M`` (en) or ``¥120万`` (zh); under ten thousand in full, ``¥1,777``; ``—`` when missing."""
    from channel_analysis.plots import compact_money

    if _missing(value):
        return "—"
    if abs(value) < 1e4:
        return (MINUS if value < 0 else "") + f"¥{abs(value):,.0f}"
    return compact_money(float(value), "¥", lang).replace("-", MINUS)


def fmt_count(value: float) -> str:
    return "—" if _missing(value) else f"{value:,.0f}"


def fmt_share(value: float, digits: int = 1) -> str:
    return "—" if _missing(value) else f"{value:.{digits}%}"


def _signed(text: str, value: float) -> str:
    return ("+" if value > 0 else MINUS if value < 0 else "±") + text


def fmt_change(now: float, before: float) -> str:
    """Relative change ``+6%`` / ``−4%``; ``—`` when either is missing or ``before`` is 0."""
    if _missing(now) or _missing(before) or before == 0:
        return "—"
    change = now / before - 1
    return _signed(f"{abs(change):.0%}", round(change, 2))


def fmt_points(now: float, before: float, lang: str = "en") -> str:
    """Change of a share in percentage points: ``+3.1 pts`` / ``+3.1个百分点``."""
    if _missing(now) or _missing(before):
        return "—"
    delta = round((now - before) * 100, 1)
    return _signed(f"{abs(delta):.1f}", delta) + label("pts", lang)


def fmt_delta(now: float, before: float) -> str:
    """Change of a count: ``+3`` / ``−2`` / ``±0``."""
    if _missing(now) or _missing(before):
        return "—"
    delta = now - before
    return _signed(f"{abs(delta):,.0f}", delta)


def fmt_p(p: float) -> str:
    """A p-value as shown: ``0.07``, ``<0.001``."""
    if _missing(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def fmt_month(month: str | pd.Period, lang: str = "en") -> str:
    """``2026-09`` → ``Sep 2026`` or ``2026年9月``."""
    p = pd.Period(month, freq="M")
    return f"{p.year}年{p.month}月" if lang == "zh" else p.strftime("%b %Y")


def fmt_value(metric: str, value: float, lang: str = "en") -> str:
    """A KPI value as shown: money, share or count, by the metric."""
    if metric in MONEY_METRICS:
        return fmt_money(value, lang)
    if metric in SHARE_METRICS:
        return fmt_share(value)
    return fmt_count(value)


def fmt_metric_change(metric: str, now: float, before: float, lang: str = "en") -> str:
    """Shares change in points, everything else relatively."""
    return fmt_points(now, before, lang) if metric in SHARE_METRICS else fmt_change(now, before)


def fmt_target(metric: str, target: float, lang: str = "en") -> str:
    """``100%``, ``≤ 4%``; ``—`` without a target."""
    if _missing(target):
        return "—"
    text = f"{target:.0%}"
    return f"≤ {text}" if metric == "first_order_only_share" else text


# "1 dealers" → "1 dealer" (a count of one, not part of 21, 1.5 or 1,000)
_ONE = re.compile(r"(?<![\d.,])1 (dealer|month|request|alert|event|manager|prospect|attendee|year|day)s\b")


def sentence(key: str, lang: str, **values: Any) -> str:
    """The sentence ``key`` of :mod:`~channel_analysis.labels` in ``lang``, filled with ``values``
    (in English a count of one takes the singular)."""
    text = label(key, lang).format(**values)
    return _ONE.sub(r"1 \1", text) if lang == "en" else text


# --------------------------------------------------------------------------- the month


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
        from channel_analysis.panel import dealer_month_panel

        if self.figures is not None:
            return self.figures.panel
        return dealer_month_panel(self.tables, as_of=self.label)

    @cached_property
    def rule_breakers(self) -> pd.DataFrame:
        """``metrics.rule_breakers`` of M: the dealers breaking each sales-manager rule (computed
        from tens of millions of orders and interactions in a large network, so only once)."""
        from channel_analysis.metrics.scorecard import rule_breakers

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
        from channel_analysis.early_warning.series import PANEL_COLUMNS as SERIES
        from channel_analysis.metrics.cohorts import PANEL_COLUMNS as COHORTS

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


def history_notes(first: pd.Period, last: pd.Timestamp | None, period: pd.Period, lang: str = "en", *,
                  early_warning: bool = False) -> list[str]:  # fmt: skip
    """Sentences for a source whose orders, from ``first`` to ``last``, do not cover what a report
    of ``period`` shows: none dated in the month (its orders may not be loaded yet), figures over
    the last 12 months that cover fewer months, and (``early_warning``) an early warning that
    cannot judge any dealer on its own history yet. Empty when the orders cover it all."""
    from channel_analysis.early_warning.signals import MIN_HISTORY, RECENT_MONTHS

    lines = []
    if last is None or last < period.start_time:
        lines.append(sentence("sum.no_orders_in_month", lang, month=fmt_month(period, lang),
                              last=f"{last:%Y-%m-%d}" if last is not None else "—"))
    months = (period - first).n + 1
    if months < 12:
        lines.append(sentence("sum.short_history", lang, first=fmt_month(first, lang), n=months))
    # a dealer is judged on MIN_HISTORY months of orders before the RECENT_MONTHS judged
    if early_warning and months < MIN_HISTORY + RECENT_MONTHS:
        lines.append(sentence("sum.not_judged", lang, need=MIN_HISTORY + RECENT_MONTHS))
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
    figures = loaded.figures if loaded.figures is not None and loaded.figures.month == m.label else None
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


# --------------------------------------------------------------------------- summaries per topic


def _summary_dealer_health(md: MonthData) -> list[str]:
    lang, lines = md.lang, []
    health, previous = md.health, md.previous
    at_risk = set(health.loc[health["status"] == "at_risk", "dealer_id"])
    if previous is not None:
        before = set(previous.health.loc[previous.health["status"] == "at_risk", "dealer_id"])
        lines.append(md.text("sum.at_risk", now=len(at_risk), prev=len(before), new=len(at_risk - before)))
        high = int((md.alerts["severity"] == "high").sum())
        lines.append(md.text("sum.alerts", n=len(md.alerts), high=high, prev=len(previous.alerts)))
    else:
        lines.append(md.text("sum.at_risk_first", now=len(at_risk)))
    revenue = md.kpi("revenue")
    lines.append(md.text(
        "sum.revenue", value=fmt_money(revenue, lang),
        vs_prev=fmt_change(revenue, _kpi_or_nan(md, "revenue", md.previous_label)),
        prev_month=fmt_month(md.previous_label, lang),
        vs_year=fmt_change(revenue, _kpi_or_nan(md, "revenue", md.year_ago_label)),
    ))
    now, before = md.kpi("dealers_in_network"), _kpi_or_nan(md, "dealers_in_network", md.previous_label)
    lines.append(md.text("sum.network", n=fmt_count(now), delta=fmt_delta(now, before),
                         lost=fmt_count(md.kpi("dealers_lost_t12"))))
    in_network = health[health["status"] != "lost"]["health_score"]
    if previous is not None and len(in_network):
        prev_scores = previous.health[previous.health["status"] != "lost"]["health_score"]
        lines.append(md.text("sum.health_median", now=f"{in_network.median():.0f}",
                             prev=f"{prev_scores.median():.0f}" if len(prev_scores) else "—"))
    return lines


def _kpi_or_nan(md: MonthData, metric: str, month: str) -> float:
    """The KPI of ``month``, NaN when that month lies before the data."""
    if pd.Period(month, freq="M") < md.first_data_month:
        return math.nan
    return md.kpi(metric, month)


def _summary_costs(md: MonthData) -> list[str]:
    lang, lines, prev = md.lang, [], md.previous_label
    if md.has("expenses"):
        cac, keep = md.kpi("cac_t12"), md.kpi("retention_cost_per_dealer_t12")
        lines.append(md.text("sum.cac", value=fmt_money(cac, lang),
                             vs_prev=fmt_change(cac, _kpi_or_nan(md, "cac_t12", prev))))
        lines.append(md.text("sum.retention_cost", value=fmt_money(keep, lang),
                             vs_prev=fmt_change(keep, _kpi_or_nan(md, "retention_cost_per_dealer_t12", prev))))
        if not (_missing(cac) or _missing(keep)) and keep > 0:
            lines.append(md.text("sum.ratio", ratio=f"{cac / keep:,.1f}".removesuffix(".0")))
    else:
        lines.append(md.text("no_table", table=table_names(["expenses"], lang)))
    signed = md.kpi("dealers_signed_t12")
    line = md.text("sum.signed", n=fmt_count(signed), prev=fmt_count(_kpi_or_nan(md, "dealers_signed_t12", prev)))
    if md.has("prospects"):
        conversion = md.kpi("prospect_conversion_t12")
        line += md.text("sum.conversion", value=fmt_share(conversion),
                        pts=fmt_points(conversion, _kpi_or_nan(md, "prospect_conversion_t12", prev), lang))
    lines.append(line)
    return lines


def _summary_managers(md: MonthData) -> list[str]:
    from channel_analysis.metrics.scorecard import RULES, sales_manager_scorecard

    lang, lines = md.lang, []
    if not md.has("interactions"):
        lines.append(md.text("no_table", table=table_names(["interactions"], lang)))
    for metric in RULES.values():
        value = md.kpi(metric)
        if _missing(value):
            continue
        lines.append(md.text("sum.rule", metric=label(metric, lang), value=fmt_share(value),
                             target=fmt_target(metric, md.kpi_target(metric), lang),
                             pts=fmt_points(value, _kpi_or_nan(md, metric, md.previous_label), lang)))
    tables, breakers = rule_tables(md.tables), md.rule_breakers
    card = sales_manager_scorecard(tables, as_of=md.label, settings=md.settings, kpis=md.kpis, breakers=breakers)
    if len(card):
        all_met = int(((card["rules_met"] == card["rules_checked"]) & (card["rules_checked"] > 0)).sum())
        prev_text = "—"
        if md.period - 1 >= md.first_data_month:
            prev_card = sales_manager_scorecard(tables, as_of=md.previous_label, settings=md.settings,
                                                kpis=md.kpis_of(md.previous_label))
            checked = prev_card["rules_checked"]
            prev_text = fmt_count(((prev_card["rules_met"] == checked) & (checked > 0)).sum())
        lines.append(md.text("sum.all_rules", k=all_met, n=len(card), prev=prev_text))
        lines.append(md.text("sum.breakers", n=fmt_count(breakers["dealer_id"].nunique())))
    return lines


def _summary_service(md: MonthData) -> list[str]:
    from channel_analysis.metrics.service import service_levels, slowest_departments

    lang, prev = md.lang, md.previous_label
    if not md.has("service_requests"):
        return [md.text("no_table", table=table_names(["service_requests"], lang))]
    lines = [] if md.requests_closed else [md.text("n.never_closed")]
    sla = md.kpi("sla_compliance")
    lines.append(md.text("sum.sla", value=fmt_share(sla), target=fmt_target("sla_compliance", md.kpi_target(
        "sla_compliance"), lang), pts=fmt_points(sla, _kpi_or_nan(md, "sla_compliance", prev), lang)))
    requests = md.view("service_requests")
    now = service_levels(requests, as_of=md.label, by=None, settings=md.settings)
    before = service_levels(requests, as_of=prev, by=None, settings=md.settings)
    lines.append(md.text("sum.requests", n=fmt_count(now["opened"].iloc[0]),
                         vs_prev=fmt_change(now["opened"].iloc[0], before["opened"].iloc[0]),
                         backlog=fmt_count(now["backlog"].iloc[0])))
    lines.append(md.text("sum.complaints", n=fmt_count(md.kpi("complaints")),
                         prev=fmt_count(_kpi_or_nan(md, "complaints", prev))))
    via = md.kpi("via_sales_manager_share")
    if not _missing(via):  # no request opened in M: nothing came through anyone
        lines.append(md.text("sum.via", value=fmt_share(via),
                             pts=fmt_points(via, _kpi_or_nan(md, "via_sales_manager_share", prev), lang)))
    if schema.ServiceRequests.department not in requests:
        return lines
    slow = slowest_departments(requests, as_of=md.label, settings=md.settings)
    slow = slow[slow["sla_compliance"].notna()]
    if len(slow):
        worst = slow.iloc[0]
        lines.append(md.text("sum.slowest", dept=worst["department"], value=fmt_share(worst["sla_compliance"])))
    return lines


def _summary_events(md: MonthData) -> list[str]:
    from channel_analysis.metrics.events import event_cost_by_kind, event_costs

    lang = md.lang
    if not md.has("events", "event_attendance"):
        missing = [t for t in ("events", "event_attendance") if not md.has(t)]
        return [md.text("no_table", table=table_names(missing, lang))]
    cost = md.kpi("event_cost_per_attendee_t12")
    lines = [md.text("sum.event_cost", value=fmt_money(cost, lang),
                     vs_prev=fmt_change(cost, _kpi_or_nan(md, "event_cost_per_attendee_t12", md.previous_label)))]
    held = event_costs(md.tables["events"], md.view("event_attendance"), as_of=md.label)
    this_month = int((held[schema.Events.held_on].dt.to_period("M") == md.period).sum())
    lines.append(md.text("sum.events_held", events=len(held), attendees=fmt_count(held["attendees"].sum()),
                         month_events=this_month))
    kinds = event_cost_by_kind(md.tables["events"], md.view("event_attendance"), as_of=md.label)
    kinds = kinds[kinds["cost_per_attendee"].notna()]
    if len(kinds):
        top = kinds.sort_values("cost_per_attendee", ascending=False).iloc[0]
        lines.append(md.text("sum.priciest_kind", kind=label(top["kind"], lang),
                             value=fmt_money(top["cost_per_attendee"], lang)))
    return lines


# --------------------------------------------------------------------------- series for charts


def alert_series(md: MonthData, dealer_id: str, *, months: int = 24) -> pd.DataFrame:
    """One dealer's orders in the 3 months to each month of the ``months`` ending M (longer when
    its reference year lies further back) against its expectation and band: the control chart
    of an alert (see :func:`~channel_analysis.early_warning.series.order_control_series`). A
    dealer that stopped ordering (``purchase_stop``) is judged against the year up to its last
    order."""
    from channel_analysis.early_warning.series import order_control_series

    reference_end = None
    stopped = md.alerts[(md.alerts["dealer_id"] == dealer_id) & (md.alerts["alert"] == "purchase_stop")]
    if len(stopped):  # judge the silence against the year before it, not against itself
        panel = md.order_panel
        rows = panel[(panel[schema.Panel.dealer_id] == dealer_id) & (panel[schema.Panel.order_count] > 0)]
        if len(rows):
            reference_end = rows[schema.Panel.month].max().to_period("M")
    return order_control_series(md.order_panel, dealer_id, as_of=md.label, months=months, reference_end=reference_end)
