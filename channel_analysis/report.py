"""One runner for every report: (notebook, parameters) → executed notebook → one self-contained HTML.

A report notebook has a cell tagged ``parameters`` with typed, commented
defaults (``month: str = "2026-10"  # report month``), markdown headings, one
library call per section, and as its last code cell ``report_finished()``::

    nb = execute_report(Path("notebooks/dealer_health.ipynb"), {"month": "2026-10", ...},
                        workdir=staging, output_notebook=staging / "notebooks/dealer_health.ipynb")
    export_html(nb, staging / "dealer_health.html", title="Dealer health — 2026-10", lang="zh")

Parameters are written into the executed notebook (the injected-parameters cell
and ``metadata.papermill.parameters``), which is kept for audit: never pass a
secret as a parameter. Passwords come from the environment.

Notebooks display tables and text through :func:`show_table`,
:func:`summary_box`, :func:`show_heading` and :func:`show_text`, which escape
every value. Their HTML is marked as escaped; any other HTML or Markdown output
is sanitised on export, so a dealer named ``<script>`` shows literally whatever
path it took. Headings of levels 1–3 — markdown ones and those shown by
:func:`show_heading`, which is how a report gives its headings in the reader's
language — make the page's contents.
"""

from __future__ import annotations

import ast
import functools
import html
import io
import itertools
import os
import re
import tempfile
import tokenize
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from channel_analysis.errors import ChannelAnalysisError, ParameterError
from channel_analysis.faults import checkpoint
from channel_analysis.labels import check_lang, label

if TYPE_CHECKING:  # nbformat costs ~1 s to import; notebooks using show_table need not pay it
    from nbformat import NotebookNode

TEMPLATE_DIR = Path(__file__).with_name("templates")
TEMPLATE_NAME = "report"
SENTINEL_TOKEN = "channel-analysis: report finished"
ESCAPED_MARK = "channel_analysis"  # output metadata key: HTML built (and escaped) by this module
SHORT_TABLE_ROWS = 30  # show_table: above this, a plain table is too long to read; use long=True

_SECRET_NAME = re.compile(r"(^|_)(password|passwd|pwd|secret|token|api_?key|credentials?)($|_)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
_SENTINEL_CALL = re.compile(r"\breport_finished\(\s*\)")
_OBJECT_REPR = re.compile(r"<[A-Za-z_][\w.]*(?:[: ].*)?>", re.DOTALL)  # <Axes: ...>, <Figure at 0x...>
_HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell", "papermill-error-cell-tag"}
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


class ReportFailed(ChannelAnalysisError):
    """A report notebook did not run to its end: a cell raised, the kernel died, or the sentinel never ran."""

    exit_status = 1


class Parameter(NamedTuple):
    """One line of a notebook's parameters cell: its type name, default and comment."""

    type: str
    default: Any
    comment: str


# --------------------------------------------------------------------------- parameters


def notebook_parameters(path: Path | str) -> dict[str, Parameter]:
    """The ``parameters`` cell of the notebook at ``path`` → ``{name: (type name, default, comment)}``.

    Lines look like ``month: str = "2026-10"  # report month``; an unannotated
    ``name = value`` gets the type of its value. Defaults must be literals.
    """
    path = Path(path)
    return _parse_parameters(_parameters_source(_read_notebook(path), path), path)


def _nbformat():
    import nbformat

    return nbformat


def _read_notebook(path: Path) -> NotebookNode:
    if not path.is_file():
        raise ReportFailed(f"report notebook {path} does not exist")
    if path.suffix in (".py", ".md"):  # a jupytext text notebook
        try:
            import jupytext
        except ImportError:
            raise ReportFailed(f"{path} is a text notebook: install jupytext, or pass the .ipynb") from None
        return jupytext.read(path)
    return _nbformat().read(path, as_version=4)


def _parameters_source(nb: NotebookNode, path: Path) -> str | None:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) > 1:
        raise ParameterError(f"{path.name} has {len(cells)} cells tagged 'parameters': keep one")
    return cells[0].source if cells else None


def _parse_parameters(source: str | None, path: Path) -> dict[str, Parameter]:
    if source is None:
        return {}
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{path.name}: the parameters cell is not valid Python (line {exc.lineno})") from None
    comments = _comments_by_line(source)
    found = {}
    for node in tree.body:
        name, type_name, value = _parameter_parts(node, path)
        found[name] = Parameter(type_name or type(value).__name__, value, comments.get(node.end_lineno, ""))
    return found


def _parameter_parts(node: ast.stmt, path: Path) -> tuple[str, str | None, Any]:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        target, annotation = node.target, ast.unparse(node.annotation)
    elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        target, annotation = node.targets[0], None
    else:
        raise ParameterError(
            f"{path.name}, parameters cell line {node.lineno}: write each parameter as "
            f'`name: type = value  # comment`, e.g. `month: str = "2026-10"  # report month`'
        )
    try:
        value = ast.literal_eval(node.value)
    except ValueError:
        raise ParameterError(
            f"{path.name}, parameters cell line {node.lineno}: the default of '{target.id}' must be a literal "
            "(a string, number, bool, None, list or dict)"
        ) from None
    return target.id, annotation, value


def _comments_by_line(source: str) -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0]: t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT}


def check_parameters(declared: Mapping[str, Parameter], given: Mapping[str, Any], notebook: str) -> None:
    """Raise :class:`ParameterError` unless ``given`` has exactly the declared names, of the declared types.

    Every declared parameter must be given (the defaults are for working on the
    notebook by hand, not for a published run); nothing that looks like a secret
    may be given, because parameters are stored in the executed notebook.
    """
    allowed = ", ".join(f"{n}: {p.type}" for n, p in declared.items()) or "none"
    unknown = sorted(set(given) - set(declared))
    missing = [name for name in declared if name not in given]
    if unknown or missing:
        parts = [f"unknown parameter(s) {', '.join(unknown)}" if unknown else "",
                 f"missing parameter(s) {', '.join(missing)}" if missing else ""]
        raise ParameterError(f"{notebook}: {'; '.join(p for p in parts if p)}. Its parameters are: {allowed}")
    for name, value in given.items():
        _check_value(name, value, declared[name].type, notebook)


def _check_value(name: str, value: Any, type_name: str, notebook: str) -> None:
    if _SECRET_NAME.search(name) or _has_url_password(value):
        raise ParameterError(
            f"{notebook}: parameter '{name}' looks like a secret; parameters are stored in the executed "
            "notebook. Give passwords through the environment instead"
        )
    if not _json_like(value):
        raise ParameterError(
            f"{notebook}: parameter '{name}' is a {type(value).__name__}; use str, int, float, bool, None, "
            "list or dict (papermill would turn anything else into a string)"
        )
    expected = _TYPES.get(type_name.split("[")[0].strip())
    if expected and (not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected)):
        raise ParameterError(
            f"{notebook}: parameter '{name}' must be {type_name}, got {type(value).__name__} {value!r}"
        )


def _has_url_password(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_URL_PASSWORD.search(value))
    if isinstance(value, list):
        return any(_has_url_password(v) for v in value)
    if isinstance(value, dict):
        return any(_has_url_password(v) for v in value.values())
    return False


def _json_like(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, list):
        return all(_json_like(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    return False


# --------------------------------------------------------------------------- execution


def execute_report(
    notebook: Path,
    parameters: Mapping[str, Any],
    *,
    workdir: Path,
    output_notebook: Path,
    timeout: int = 600,
    kernel_name: str = "python3",
) -> Path:
    """Run ``notebook`` with ``parameters`` in ``workdir``; returns ``output_notebook``, the executed copy.

    Parameters are checked against the notebook's parameters cell first
    (:func:`check_parameters`). ``timeout`` is per cell, in seconds. Raises
    :class:`ReportFailed` naming the cell when a cell raises, times out or kills
    the kernel, and when the last cell, ``report_finished()``, left no output
    (``sys.exit()`` in a cell, say): a report that did not reach its end is
    never exported.
    """
    import papermill

    # absolute: papermill changes the process's directory to workdir while it runs
    notebook, output_notebook, workdir = (Path(p).resolve() for p in (notebook, output_notebook, workdir))
    source_nb = _read_notebook(notebook)
    check_parameters(_parse_parameters(_parameters_source(source_nb, notebook), notebook), parameters, notebook.name)
    _require_sentinel_cell(source_nb, notebook)
    if not workdir.is_dir():
        raise ReportFailed(f"working folder {workdir} for {notebook.name} does not exist")
    output_notebook.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        input_path = notebook if notebook.suffix == ".ipynb" else _as_ipynb(source_nb, Path(tmp) / notebook.name)
        engine = {"kernel_manager_class": _ipc_kernel_manager(Path(tmp))} if os.name == "posix" else {}
        checkpoint(f"report:{notebook.stem}:execute")
        try:
            papermill.execute_notebook(
                str(input_path), str(output_notebook), parameters=dict(parameters), kernel_name=kernel_name,
                language="python", cwd=str(workdir), execution_timeout=timeout, progress_bar=False,
                log_output=False, **engine,
            )
        except Exception as exc:  # papermill and nbclient raise several unrelated types
            raise _failure(exc, notebook, output_notebook, timeout) from exc
    checkpoint(f"report:{notebook.stem}:executed")
    _check_sentinel_output(notebook, output_notebook)
    return output_notebook


def _ipc_kernel_manager(socket_dir: Path) -> type:
    """A kernel manager talking to its kernel over Unix sockets in ``socket_dir``, not over TCP.

    Nothing travels as plain text over the network stack, no port is taken, and
    ipykernel's warning about unencrypted TCP stays out of the run's output.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _transport(self):
            return "ipc"

        @default("ip")
        def _ip(self):
            return str(socket_dir / "kernel")

    return IPCKernelManager


def _as_ipynb(nb: NotebookNode, path: Path) -> Path:
    _nbformat().write(nb, path.with_suffix(".ipynb"))
    return path.with_suffix(".ipynb")


def _code_cells(nb: NotebookNode) -> list[NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _is_sentinel_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and bool(_SENTINEL_CALL.search(cell.source))


def _require_sentinel_cell(nb: NotebookNode, path: Path) -> None:
    cells = _code_cells(nb)
    if not cells or not _is_sentinel_cell(cells[-1]):
        raise ReportFailed(
            f"{path.name} does not end with the sentinel: add a last code cell "
            "`report_finished()` (from channel_analysis.report), so a run that stops early is caught"
        )


def _check_sentinel_output(notebook: Path, output_notebook: Path) -> None:
    executed = _nbformat().read(output_notebook, as_version=4)
    last = _code_cells(executed)[-1]
    if any(SENTINEL_TOKEN in o.get("text", "") for o in last.get("outputs", []) if o.output_type == "stream"):
        return
    ran = _last_cell_run(executed)
    where = f"the last cell that ran was {_describe(executed, ran)}" if ran is not None else "no cell ran"
    error = _error_of(ran) if ran is not None else ""
    raise ReportFailed(
        f"report {notebook.name} stopped before its end (its last cell, report_finished(), left no output): "
        f"{where}{error}. Executed notebook: {output_notebook}"
    )


def _last_cell_run(nb: NotebookNode) -> NotebookNode | None:
    """The last code cell papermill started (after a dead kernel it marks every cell "completed")."""
    started = [c for c in _code_cells(nb)
               if c.metadata.get("papermill", {}).get("start_time") or c.get("execution_count") is not None]
    return started[-1] if started else None


def _error_of(cell: NotebookNode) -> str:
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    return f", which raised {errors[0].ename}: {errors[0].evalue}" if errors else ""


def _describe(nb: NotebookNode, cell: NotebookNode) -> str:
    """``cell 4 (In [3]): first line of its code`` — the number counts every cell of the executed notebook."""
    position = next(i for i, c in enumerate(nb.cells, 1) if c is cell)
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    count = cell.get("execution_count")
    prompt = f", In [{count}]" if count is not None else ""
    return f"cell {position}{prompt}: `{first[:80]}`"


def _failure(exc: Exception, notebook: Path, output_notebook: Path, timeout: int) -> ReportFailed:
    """The papermill/nbclient exception → one readable :class:`ReportFailed`."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    executed = _nbformat().read(output_notebook, as_version=4) if output_notebook.is_file() else None
    tail = f" Executed notebook: {output_notebook}" if executed is not None else ""
    if isinstance(exc, PapermillExecutionError):
        cell = _failed_cell(executed) if executed is not None else None
        where = _describe(executed, cell) if cell is not None else f"cell In [{exc.exec_count}]"
        return ReportFailed(f"report {notebook.name} failed in {where}: {exc.ename}: {exc.evalue}.{tail}")
    ran = _last_cell_run(executed) if executed is not None else None
    where = _describe(executed, ran) if ran is not None else "a cell"
    if isinstance(exc, CellTimeoutError):
        return ReportFailed(
            f"report {notebook.name}: {where} ran longer than the {timeout} s limit per cell and was stopped; "
            f"raise timeout= if the data really is that large.{tail}"
        )
    if isinstance(exc, DeadKernelError):
        return ReportFailed(
            f"report {notebook.name}: the kernel died (out of memory, or killed) while running {where}.{tail}"
        )
    return ReportFailed(f"report {notebook.name} could not run: {type(exc).__name__}: {str(exc).rstrip('.')}.{tail}")


def _failed_cell(nb: NotebookNode) -> NotebookNode | None:
    failed = [c for c in _code_cells(nb) if any(o.output_type == "error" for o in c.get("outputs", []))]
    return failed[-1] if failed else None


# --------------------------------------------------------------------------- display helpers (run in the notebook)


def report_finished() -> None:
    """The sentinel: the last code cell of every report calls this, and the runner checks its output."""
    print(SENTINEL_TOKEN)


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


def format_cell(value: Any, *, money: bool = False, percent: bool = False, currency: str = "¥",
                decimals: int | None = None) -> str:
    """One value as shown in a table: ``¥1,234,567``, ``12.5%``, ``1,234``, ``3.14``; empty for missing."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if pd.api.types.is_bool(value):
        return str(bool(value)).lower()
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")
    if pd.api.types.is_number(value):
        number = float(value)
        if money:
            return f"{'-' if number < 0 else ''}{currency}{abs(number):,.0f}"
        if percent:
            return f"{number:.1%}"
        if decimals is not None:
            return f"{number:,.{decimals}f}"
        return f"{number:,.0f}" if pd.api.types.is_integer(value) else f"{number:,.2f}"
    return str(value)


def format_frame(
    frame: pd.DataFrame,
    *,
    lang: str = "en",
    money_columns: Sequence[str] = (),
    percent_columns: Sequence[str] = (),
    label_values: Sequence[str] = (),
    currency: str = "¥",
    decimals: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """A frame as it is shown: values formatted as text, codes in ``label_values`` columns and headers labelled.

    Numbers get thousands separators, ``money_columns`` the currency and no
    decimals, ``percent_columns`` (shares 0–1) a percent sign; other numbers
    two decimals unless ``decimals`` gives a column its own (``{"median_hours": 1}``).
    """
    check_lang(lang)
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if column in label_values:
            shown[column] = values.map(lambda v: "" if pd.isna(v) else label(str(v), lang))
        else:
            money, percent = column in money_columns, column in percent_columns
            digits = (decimals or {}).get(column)
            shown[column] = [format_cell(v, money=money, percent=percent, currency=currency, decimals=digits)
                             for v in values]
    shown.columns = [label(str(c), lang) for c in frame.columns]
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
                       wrap: Sequence[int] = ()) -> str:
    import itables

    _ensure_itables()
    return itables.to_html_datatable(
        shown.reset_index(drop=True),
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
        + [{"targets": i, "width": width} for i, width in enumerate(_column_widths(shown, wrap))],
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
    currency: str = "¥",
    align_right: Sequence[str] = (),
    wrap: Sequence[str] = (),
    decimals: Mapping[str, int] | None = None,
) -> None:
    """Display ``frame``: a sortable, searchable table when ``long``, else a plain one; always escaped.

    Headers and the codes in ``label_values`` columns (status, alert, severity …)
    are translated with :func:`~channel_analysis.labels.label`; numbers are
    formatted by :func:`format_frame`. Formatted numbers still sort as numbers
    in the interactive table (DataTables reads ``¥1,234`` and ``12.5%``). ``align_right``
    names text columns that hold preformatted numbers; ``wrap`` the columns of long text
    (a reason, a sentence) that may wrap, where every other column keeps to one line;
    ``decimals`` the digits of some numeric columns (see :func:`format_frame`).
    """
    shown = format_frame(frame, lang=lang, money_columns=money_columns, percent_columns=percent_columns,
                         label_values=label_values, currency=currency, decimals=decimals)
    numeric = [i for i, c in enumerate(frame.columns)
               if (i in _numeric_positions(frame) and c not in label_values) or c in align_right]
    wrapped = [i for i, c in enumerate(frame.columns) if c in wrap]
    if long:
        _display_escaped(_interactive_table(shown, numeric, caption, lang, wrapped))
    else:
        if len(shown) > SHORT_TABLE_ROWS:
            warnings.warn(f"show_table: {len(shown)} rows in a plain table; pass long=True", stacklevel=2)
        _display_escaped(_static_table(shown, numeric, caption, wrapped))


# --------------------------------------------------------------------------- HTML export


def export_html(executed_notebook: Path, html_path: Path, *, title: str, lang: str = "en") -> Path:
    """The executed notebook → one self-contained HTML page at ``html_path``: no code, contents at the side.

    Hidden: every input, prompts, the parameters and injected-parameters cells,
    the sentinel, cells tagged ``remove-cell``, stderr and bare object reprs
    (``<Axes: …>``). HTML or Markdown output not built by this module's helpers
    is sanitised. Images are embedded; no script, style or font is fetched when
    the page is viewed (checked: :class:`ReportFailed` otherwise).
    """
    from nbconvert import HTMLExporter

    check_lang(lang)
    html_path, template = Path(html_path), TEMPLATE_DIR / TEMPLATE_NAME
    if not (template / "index.html.j2").is_file():
        raise ReportFailed(f"the report template is missing from {template}: reinstall channel-analysis")
    nb = _nbformat().read(executed_notebook, as_version=4)
    nb.cells = _visible_cells(nb.cells)
    toc = _annotate(nb.cells, lang)
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        embed_images=True,
        language_code=lang,
    )
    resources = {
        "metadata": {"name": title, "path": str(_source_folder(nb, Path(executed_notebook)))},
        "report": {"title": title, "toc": toc, "contents": label("contents", lang),
                   "css": (template / "report.css").read_text(encoding="utf-8")},
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    loaded = external_references(body)
    if loaded:
        raise ReportFailed(f"{html_path.name} would load {', '.join(loaded[:3])} when viewed; not published")
    checkpoint(f"report:{html_path.stem}:html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    checkpoint(f"report:{html_path.stem}:html-written")
    return html_path


def _source_folder(nb: NotebookNode, executed: Path) -> Path:
    """Where the report notebook lives: markdown images are relative to it, not to the executed copy."""
    source = nb.metadata.get("papermill", {}).get("input_path")
    return Path(source).parent if isinstance(source, str) and Path(source).is_file() else executed.parent


def _visible_cells(cells: list[NotebookNode]) -> list[NotebookNode]:
    kept = []
    for cell in cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _HIDDEN_TAGS or _is_sentinel_cell(cell) or cell.cell_type == "raw":
            continue
        if cell.cell_type == "code":
            cell.outputs = [o for o in map(_visible_output, cell.outputs) if o is not None]
            if not cell.outputs:
                continue
        kept.append(cell)
    return kept


def _visible_output(output: NotebookNode) -> NotebookNode | None:
    """An output as published, or None to drop it (stderr, errors, object reprs); foreign HTML sanitised."""
    if output.output_type == "stream":
        return output if output.name == "stdout" else None
    if output.output_type == "error":
        return None
    if output.get("metadata", {}).get(ESCAPED_MARK):
        return output
    data = {k: v for k, v in output.data.items() if k in ("text/html", "text/markdown", "image/png",
                                                             "image/jpeg", "text/plain")}
    for key in ("text/html", "text/markdown"):
        if key in data:
            without_css = re.sub(r"<style\b.*?</style\s*>", "", data[key], flags=re.DOTALL | re.IGNORECASE)
            data[key] = _sanitizer().sanitize_html_tags(without_css)
    if set(data) == {"text/plain"} and _OBJECT_REPR.fullmatch(data["text/plain"].strip()):
        return None
    if not data:
        return None
    output.data = data
    return output


@functools.cache
def _sanitizer():
    from bleach.sanitizer import ALLOWED_TAGS
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    tables = {"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col"}
    text = {"p", "div", "span", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "sup", "sub", "small", "pre"}
    return SanitizeHTML(
        tags=sorted(set(ALLOWED_TAGS) | tables | text),
        attributes={"*": ["class", "title", "colspan", "rowspan"], "a": ["href", "title"]},
    )


def _annotate(cells: list[NotebookNode], lang: str) -> list[dict]:
    """Give markdown headings (levels 1–3) ids and charts their section as alt text; returns the contents."""
    toc: list[dict] = []
    section = ""
    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = _anchor_headings(cell.source, toc)
            section = toc[-1]["text"] if toc else section
            continue
        for output in cell.outputs:
            heading = output.get("metadata", {}).get(ESCAPED_MARK, {}).get("heading")
            if heading and "text/html" in output.get("data", {}):  # from show_heading
                section = _anchor_output_heading(output, int(heading), toc)
            elif "image/png" in output.get("data", {}):
                output.metadata["ca_alt"] = f"{label('chart', lang)}: {section}" if section else label("chart", lang)
    return toc


def _anchor_output_heading(output: NotebookNode, level: int, toc: list[dict]) -> str:
    """A heading shown by :func:`show_heading` gets an anchor and, at levels 1–3, a place in ``toc``."""
    text = str(output.metadata[ESCAPED_MARK].get("text", ""))
    level = min(max(level, 1), 4)
    if level > 3:
        return toc[-1]["text"] if toc else ""
    anchor = f"section-{len(toc) + 1}"
    toc.append({"level": level, "id": anchor, "text": text})
    output.data["text/html"] = (
        f'<h{level}><span id="{anchor}" class="ca-anchor"></span>{html.escape(text)}</h{level}>'
    )
    return text


def _anchor_headings(source: str, toc: list[dict]) -> str:
    """Prefix each ATX heading outside code fences with an anchor, appending it to ``toc``."""
    heading = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$")
    lines, fenced = [], False
    for line in source.splitlines():
        fenced ^= line.lstrip().startswith(("```", "~~~"))
        match = None if fenced else heading.match(line)
        if match:
            anchor = f"section-{len(toc) + 1}"
            toc.append({"level": len(match[1]), "id": anchor, "text": _plain(match[2])})
            line = f'{match[1]} <span id="{anchor}" class="ca-anchor"></span>{match[2]}'
        lines.append(line)
    return "\n".join(lines)


def _plain(markdown: str) -> str:
    """Heading markdown → its text: links keep their words, emphasis and code marks go."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[*`]|(?<!\w)_|_(?!\w)", "", text).strip()


class _ReferenceFinder(HTMLParser):
    """Collects what a browser would load by itself: script src, stylesheets, images, frames, CSS and JS imports.

    Anything but an inline ``data:`` URI counts: a relative path breaks as soon as
    the page is mailed or moved, a URL needs the network.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        fetched = {"script": "src", "img": "src", "iframe": "src", "source": "src", "embed": "src",
                   "link": "href", "object": "data"}
        url = (attrs.get(fetched.get(tag, ""), "") or "").strip()
        if url and not url.startswith("data:"):
            self.found.append(url)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += re.findall(r"(?:@import|url\()\s*['\"]?((?:https?:)?//[^'\")\s]+)", data)
        self.found += re.findall(r"import\(\s*['\"]((?:https?:)?//[^'\"]+)", data)


def external_references(page: str) -> list[str]:
    """What ``page`` would load besides itself when shown: URLs and file paths (empty: self-contained)."""
    finder = _ReferenceFinder()
    finder.feed(page)
    return finder.found
