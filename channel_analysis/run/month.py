"""The monthly run: read → validate → figures as of the month → outputs → publish.

``run_month`` is what ``channel-analysis run`` calls. Everything is written to a
staging folder and published only when the whole run succeeded (see
:mod:`channel_analysis.run.publish`).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from channel_analysis.config import Settings
from channel_analysis.deck import build_deck
from channel_analysis.errors import ParameterError
from channel_analysis.faults import with_checkpoints
from channel_analysis.figures.month import (
    MonthFigures,
    figures_of_month,
    figures_of_month_from_files,
    store_frames,
    stored,
)
from channel_analysis.months import Month
from channel_analysis.report.export import export_html
from channel_analysis.report.runner import execute_report
from channel_analysis.report.sections import LANDING, REPORTS
from channel_analysis.run import publish
from channel_analysis.run.backtest import write_month_tables
from channel_analysis.run.manifest import _checksums, _code_revision, _versions
from channel_analysis.sources.postgres import postgres_url
from channel_analysis.sources.read import read_source
from channel_analysis.store.prepared import add_figures, load_source, write_prepared_source
from channel_analysis.text.labels import label
from channel_analysis.validate.memory import validate_source
from channel_analysis.validate.postgres import validate_postgres
from channel_analysis.validate.quality import write_quality
from channel_analysis.validate.stream import large_parquet, validate_parquet

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _landing_title(m: Month, lang: str) -> str:

    return f"{label('index_title', lang)} — {m.label}"


def _page(name: str, prepared: Path, m: Month, lang: str, staging: Path, work: Path, *, title: str) -> None:
    """Execute ``notebooks/<name>.ipynb`` on the prepared source; export it as ``<name>.html``."""

    executed = staging / "notebooks" / f"{name}.ipynb"
    executed.parent.mkdir(exist_ok=True)
    parameters = {"data": str(prepared), "month": m.label, "lang": lang}
    execute_report(NOTEBOOKS / f"{name}.ipynb", parameters, workdir=work, output_notebook=executed)
    export_html(executed, staging / f"{name}.html", title=title, lang=lang)


def _reports(prepared: Path, m: Month, lang: str, staging: Path, work: Path, progress) -> None:
    """Execute each report notebook on the prepared source and export it as HTML into ``staging``."""

    for name in REPORTS:
        progress(f"report {name}")
        _page(name, prepared, m, lang, staging, work, title=f"{label(name, lang)} — {m.label}")


def _deck(figures: MonthFigures, staging: Path, *, lang: str, template) -> None:
    build_deck(figures, staging / "deck.pptx", lang=lang, template=Path(template) if template else None)


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
            prepared = write_prepared_source(validated.accepted if in_files else validated.tables, work / "source",
                                             quality=quality)  # fmt: skip
            if in_files:  # computed by the engine from the prepared files; the reports read parts of them
                tables = load_source(prepared).tables
                accepted = {name: prepared / f"{name}.parquet" for name in validated.accepted}
                figures = figures_of_month_from_files(tables, accepted, m, settings=settings,
                                                      panel_path=scratch / "panel.parquet", work=scratch)
            else:
                figures = figures_of_month(validated.tables, m, settings=settings)
            write_month_tables(figures.now, staging)
            add_figures(prepared, *store_frames(figures))
            stored(figures, prepared)
            progress("management deck")
            _deck(figures, staging, lang=lang, template=deck_template)
            del figures, validated  # the notebooks run in kernels of their own: hold no table meanwhile
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
