"""What every section shares: its heading and explanation, the missing-table line, figures."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import pandas as pd

from channel_analysis.errors import ChannelAnalysisError, TooLittleData
from channel_analysis.palette import colours_of  # noqa: F401 (the sections' API)
from channel_analysis.report.display import show_figure, show_heading, show_table, show_text
from channel_analysis.report.month_data import MonthData
from channel_analysis.text.labels import has_label, table_names

__all__ = ["section", "figure", "show_figure", "show_table", "show_text", "note", "prefixed", "in_order",
           "colours_of", "drop_empty"]


def section(key: str, *, needs: Sequence[str] = (), needs_one_of: Sequence[str] = (), level: int = 2) -> Callable:
    """Decorate a section ``fn(md, ...)``: show heading ``h.<key>`` and, when there is one, the
    explanation ``t.<key>``; then run it, unless a table in ``needs`` is missing, or every table
    of ``needs_one_of`` (one line says which), or its figures cannot be computed on these data
    (one line says why, in the reader's words for a :class:`TooLittleData`).

    Returns the frame the section shows (None when it shows none), for an analyst to look at in
    JupyterLab; a report notebook ends the call with ``;`` so that the cell shows the section only."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(md: MonthData, *args, **kwargs) -> pd.DataFrame | None:
            show_heading(md.text(f"h.{key}"), level)
            if has_label(f"t.{key}"):
                show_text(md.text(f"t.{key}"))
            missing = [t for t in needs if t not in md.tables]
            if needs_one_of and not any(t in md.tables for t in needs_one_of):
                missing = [*missing, *needs_one_of]
            if missing:
                note(md, "no_table", table=table_names(missing, md.lang))
                return None
            try:
                return fn(md, *args, **kwargs)
            except TooLittleData as exc:
                note(md, "cannot_compute", reason=md.text(exc.reason, **exc.values))
            except ChannelAnalysisError as exc:  # e.g. a column these data lack: say so, go on
                note(md, "cannot_compute", reason=str(exc))
            return None

        run.section_key = key
        return run

    return wrap


def note(md: MonthData, key: str, **values) -> None:
    """A muted line (a caveat, an assumption, why something is missing) in the report's language."""
    show_text(md.text(key, **values), note=True)


def figure(width: float = 8.0, height: float = 4.0, *, ncols: int = 1, nrows: int = 1, **kwargs):
    """A new figure and its axes (one Axes, or an array for several)."""
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def prefixed(values: pd.Series, prefix: str) -> pd.Series:
    """Codes → label keys with a prefix (``support`` → ``cat.support``), for codes whose plain
    key means something else elsewhere."""
    return prefix + values.astype(str)


def in_order(frame: pd.DataFrame, column: str, order: Sequence[str]) -> pd.DataFrame:
    """Rows sorted by ``column`` in the given order of codes (unknown codes last)."""
    rank = {code: k for k, code in enumerate(order)}
    return frame.assign(_o=frame[column].map(rank).fillna(len(rank))).sort_values("_o", kind="stable").drop(
        columns="_o"
    )


def drop_empty(frame: pd.DataFrame, columns: Sequence[str] = ("sales_manager",)) -> pd.DataFrame:
    """``frame`` without those of ``columns`` that hold nothing (a source that names no sales
    manager: a column that could only be empty)."""
    empty = [c for c in columns if c in frame and frame[c].fillna("").astype(str).eq("").all()]
    return frame.drop(columns=empty)
