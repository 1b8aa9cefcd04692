"""What a report notebook shows: headings, text, links, figures, summary boxes and tables, every
value escaped, in the reader's language.

Notebooks display tables and text through :func:`show_table`, :func:`summary_box`,
:func:`show_heading` and :func:`show_text`, which escape every value. Their HTML is marked as
escaped; any other HTML or Markdown output is sanitised on export
(:mod:`channel_analysis.report.export`), so a dealer named ``<script>`` shows literally
whatever path it took.
"""

from __future__ import annotations

import html
import itertools
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from channel_analysis.text.format import Text, text_for
from channel_analysis.text.labels import check_lang, label

if TYPE_CHECKING:  # nbformat costs ~1 s to import; notebooks using show_table need not pay it
    pass


ESCAPED_MARK = "channel_analysis"  # output metadata key: HTML built (and escaped) by this module


SHORT_TABLE_ROWS = 30  # show_table: above this, a plain table is too long to read; use long=True


def _display_escaped(markup: str) -> None:
    """Display HTML this module built from escaped values, marked so the export keeps it as is."""
    from IPython.display import HTML, display

    display(HTML(markup), metadata={ESCAPED_MARK: {"escaped": True}})


def show_heading(text: str, level: int = 2) -> None:
    """A section heading shown from code, in the report's language (``label("h.status", lang)``).

    Markdown cells cannot switch language; this can. The exported page lists these
    headings (levels 1–3) in its contents exactly like markdown headings.
    """
    if level not in (1, 2, 3, 4):
        raise ValueError(f"heading level must be 1 to 4, not {level}")
    from IPython.display import HTML, display

    display(HTML(f"<h{level}>{html.escape(str(text))}</h{level}>"),
            metadata={ESCAPED_MARK: {"escaped": True, "heading": level, "text": str(text)}})


def show_text(text: str, *, note: bool = False) -> None:
    """A paragraph of explanation (``note=True``: smaller and muted, for caveats and assumptions); escaped."""
    style = "color:#5b6675;font-size:13px;margin:.3em 0 .8em" if note else "margin:.3em 0 .8em;max-width:52em"
    _display_escaped(f'<p class="ca-{"note" if note else "text"}" style="{style}">{html.escape(str(text))}</p>')


def show_links(links: Sequence[tuple[str, str, str]]) -> None:
    """A list of links ``(text, href, note)`` to files beside the page; every part escaped, and only
    plain relative file names are linked (nothing that could leave the folder or run a script)."""
    items = []
    for text, href, note in links:
        # "%" too: a browser reads "%2e%2e" as ".."; control characters and spaces end or bend a URL
        if not href or href.startswith(".") or any(c in "/\\:%" or not c.isprintable() or c.isspace() for c in href):
            raise ValueError(f"not a file beside the page: {href!r}")
        extra = f' <span style="color:#5b6675">— {html.escape(str(note))}</span>' if note else ""
        items.append(f'<li><a href="{html.escape(href, quote=True)}">{html.escape(str(text))}</a>{extra}</li>')
    _display_escaped(f'<ul class="ca-links" style="line-height:1.8">{"".join(items)}</ul>')


def show_figure(fig) -> None:
    """Display a matplotlib figure here (not at the end of the cell) and close it, so it shows once."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)


def summary_box(lines: Sequence[str], *, title: str | None = None, lang: str = "en") -> None:
    """The "what changed since last month" box at the top of a report; every line is escaped."""
    heading = html.escape(title if title is not None else label("what_changed", check_lang(lang)))
    items = "".join(f"<li>{html.escape(str(line))}</li>" for line in lines)
    _display_escaped(
        '<aside class="ca-summary" style="border-left:4px solid #1f5f8b;background:#f3f7fa;'
        'padding:.6em 1.2em;margin:.5em 0 1.2em">'
        f'<p style="font-weight:600;margin:.2em 0">{heading}</p><ul style="margin:.2em 0">{items}</ul></aside>'
    )


def format_cell(value: Any, t: Text, *, money: bool = False, percent: bool = False,
                decimals: int | None = None) -> str:
    """One value as shown in a table, by the one formatter (:mod:`channel_analysis.text.format`):
    ``¥1.2M``, ``12.5%``, ``1,234``, ``3.14``, ``2026-09-30``; empty for missing."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if pd.api.types.is_bool(value):
        return t.label("yes" if value else "no")
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")
    if pd.api.types.is_number(value):
        if money:
            return t.money(value)
        if percent:
            return t.share(value)
        if decimals is not None:
            return t.number(value, decimals)
        return t.count(value) if pd.api.types.is_integer(value) else t.number(value, 2)
    return str(value)


def format_frame(
    frame: pd.DataFrame,
    *,
    lang: str = "en",
    money_columns: Sequence[str] = (),
    percent_columns: Sequence[str] = (),
    label_values: Sequence[str] = (),
    decimals: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """A frame as it is shown: values formatted as text, codes in ``label_values`` columns and headers labelled.

    Numbers get thousands separators, ``money_columns`` compact money, ``percent_columns``
    (shares 0–1) a percent sign; other numbers two decimals unless ``decimals`` gives a column
    its own (``{"median_hours": 1}``).
    """
    t = text_for(lang)
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if column in label_values:
            shown[column] = values.map(lambda v: "" if pd.isna(v) else t.label(str(v)))
        else:
            money, percent = column in money_columns, column in percent_columns
            digits = (decimals or {}).get(column)
            shown[column] = [format_cell(v, t, money=money, percent=percent, decimals=digits) for v in values]
    shown.columns = [t.label(str(c)) for c in frame.columns]
    return shown


def _numeric_positions(frame: pd.DataFrame) -> list[int]:
    return [i for i, c in enumerate(frame.columns) if pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])]


_WRAP_STYLE = "white-space:normal;min-width:12em"


def _static_table(shown: pd.DataFrame, numeric: list[int], caption: str | None, wrap: Sequence[int] = ()) -> str:
    """A plain, fully escaped HTML table; numeric columns right-aligned, ``wrap`` columns (long text) wrapped."""
    def cell(tag: str, i: int, text: str) -> str:
        align = ' class="ca-num" style="text-align:right"' if i in numeric else (
            f' style="text-align:left;{_WRAP_STYLE}"' if i in wrap else ' style="text-align:left"')
        return f"<{tag}{align}>{html.escape(text)}</{tag}>"

    head = "".join(cell("th", i, str(c)) for i, c in enumerate(shown.columns))
    rows = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
                   for row in shown.itertuples(index=False))
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    table = f'<table class="ca-table">{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    return f'<div class="ca-table-wrap" style="overflow-x:auto;max-width:100%">{table}</div>'


_ITABLES_READY = False


_TABLE_IDS = itertools.count(1)


def _ensure_itables() -> None:
    """Load DataTables into the page once per kernel, inlined (offline), so the HTML needs no network."""
    global _ITABLES_READY
    if _ITABLES_READY:
        return
    import itables
    from IPython.display import display
    from IPython.utils.capture import capture_output

    with capture_output(stdout=False, stderr=False, display=True) as captured:
        itables.init_notebook_mode(all_interactive=False, connected=False)
    for output in captured.outputs:  # the library's own markup and script: re-shown marked as ours
        display(output.data, raw=True, metadata={ESCAPED_MARK: {"escaped": True}})
    _ITABLES_READY = True


def _interactive_table(shown: pd.DataFrame, numeric: list[int], caption: str | None, lang: str,
                       wrap: Sequence[int] = (), order: Mapping[int, pd.Series] | None = None) -> str:
    """``order``: for a shown column (by position), the values it sorts by (compact money such as
    ¥955k and ¥1.2M sorts by the amount): kept in a hidden column that is neither seen nor searched."""
    import itables

    _ensure_itables()
    data = shown.reset_index(drop=True)
    hidden = []
    for position, values in (order or {}).items():
        hidden.append({"targets": position, "orderData": [len(data.columns)]})
        data[f"_order_{position}"] = pd.Series(values).reset_index(drop=True).astype("float64")
        hidden.append({"targets": len(data.columns) - 1, "visible": False, "searchable": False})
    widths = _column_widths(shown, wrap)
    return itables.to_html_datatable(
        data,
        caption=html.escape(caption) if caption else None,  # itables does not escape the caption
        table_id=f"ca_table_{next(_TABLE_IDS)}",
        connected=False,
        allow_html=False,  # values are escaped (the default since itables 2.4; stated, not assumed)
        showIndex=False,
        show_dtypes=False,
        maxBytes=0,  # never drop rows silently from an action list
        classes="display compact",
        style="width:100%;margin:0;caption-side:top",
        pageLength=15,
        lengthMenu=[15, 50, 200, -1],
        autoWidth=False,  # the browser sizes the columns: short ones to their text, long text wraps
        display_logo_when_loading=False,
        columnDefs=([{"targets": numeric, "className": "dt-right"}] if numeric else [])
        + ([{"targets": list(wrap), "className": "ca-wrap"}] if wrap else [])
        + [{"targets": i, "width": width} for i, width in enumerate(widths)] + hidden,
        language=_table_language(lang),
    )


def text_width(text: str) -> int:
    """Width of ``text`` in half-width characters (a Chinese character counts two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_widths(shown: pd.DataFrame, wrap: Sequence[int] = (), room: float = 130.0) -> list[str]:
    """Column widths (percentages) for a DataTables table, which lays its columns out fixed.

    A column gets what its longer cells (90th percentile) need, or the longest word of its
    header (headers wrap), in half-width characters, with room for the sort arrows. ``wrap``
    columns (long text) share what is left of ``room`` (about a report page's width) in
    proportion to their length, at least 16 characters each.
    """
    need = []
    for column in shown.columns:
        cells = shown[column].astype(str).map(text_width)
        typical = float(cells.quantile(0.9)) if len(cells) else 0.0
        words = str(column).split() or [""]
        header = max(min(text_width(w), 8) for w in words)  # Chinese headers may break anywhere
        need.append(max(typical, header) + 4)
    left = max(room - sum(n for i, n in enumerate(need) if i not in wrap), 16.0 * len(wrap))
    wanted = sum(need[i] for i in wrap) or 1.0
    for i in wrap:  # in proportion to what each would need on one line, so the longest text gets most
        need[i] = max(16.0, min(need[i], left * need[i] / wanted))
    total = sum(need) or 1.0
    return [f"{100 * n / total:.1f}%" for n in need]


def _table_language(lang: str) -> dict[str, str]:
    """DataTables' own words (search box, row counts) in the report's language."""
    keys = {"search": "search", "lengthMenu": "table_length_menu", "info": "table_info",
            "infoEmpty": "table_info_empty", "infoFiltered": "table_info_filtered",
            "zeroRecords": "table_zero_records"}
    words = {option: label(key, lang) for option, key in keys.items()}
    words["search"] += ":"
    return words


def show_table(
    frame: pd.DataFrame,
    *,
    lang: str,
    caption: str | None = None,
    long: bool = False,
    money_columns: Sequence[str] = (),
    percent_columns: Sequence[str] = (),
    label_values: Sequence[str] = (),
    align_right: Sequence[str] = (),
    wrap: Sequence[str] = (),
    decimals: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Display ``frame``: a sortable, searchable table when ``long``, else a plain one; always escaped.

    Headers and the codes in ``label_values`` columns (status, alert, severity …)
    are translated with :func:`~channel_analysis.labels.label`; numbers are
    formatted by :func:`format_frame`. Numbers still sort as numbers in the interactive table
    (each numeric column sorts by its values, not by its text). ``align_right``
    names text columns that hold preformatted numbers; ``wrap`` the columns of long text
    (a reason, a sentence) that may wrap, where every other column keeps to one line;
    ``decimals`` the digits of some numeric columns (see :func:`format_frame`). Returns
    ``frame``, for a section to return what it shows.
    """
    shown = format_frame(frame, lang=lang, money_columns=money_columns, percent_columns=percent_columns,
                         label_values=label_values, decimals=decimals)
    numbers = [i for i in _numeric_positions(frame) if frame.columns[i] not in label_values]
    numeric = [i for i, c in enumerate(frame.columns) if i in numbers or c in align_right]
    wrapped = [i for i, c in enumerate(frame.columns) if c in wrap]
    if long:
        order = {i: frame.iloc[:, i] for i in numbers}
        _display_escaped(_interactive_table(shown, numeric, caption, lang, wrapped, order))
    else:
        if len(shown) > SHORT_TABLE_ROWS:
            warnings.warn(f"show_table: {len(shown)} rows in a plain table; pass long=True", stacklevel=2)
        _display_escaped(_static_table(shown, numeric, caption, wrapped))
    return frame
