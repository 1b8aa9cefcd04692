"""One runner for every report: (notebook, parameters) → executed notebook, checked to have run
to its end.

A report notebook has a cell tagged ``parameters`` with typed, commented
defaults (``month: str = "2026-10"  # report month``), markdown headings, one
library call per section, and as its last code cell ``report_finished()``::

    nb = execute_report(Path("notebooks/dealer_health.ipynb"), {"month": "2026-10", ...},
                        workdir=staging, output_notebook=staging / "notebooks/dealer_health.ipynb")
    export_html(nb, staging / "dealer_health.html", title="Dealer health — 2026-10", lang="zh")

Parameters are written into the executed notebook (the injected-parameters cell
and ``metadata.papermill.parameters``), which is kept for audit: never pass a
secret as a parameter. Passwords come from the environment.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tempfile
import tokenize
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from channel_analysis.errors import ChannelAnalysisError, ParameterError
from channel_analysis.faults import checkpoint

if TYPE_CHECKING:  # nbformat costs ~1 s to import; notebooks using show_table need not pay it
    from nbformat import NotebookNode


TEMPLATE_DIR = Path(__file__).with_name("templates")


TEMPLATE_NAME = "report"


SENTINEL_TOKEN = "channel-analysis: report finished"


_SECRET_NAME = re.compile(r"(^|_)(password|passwd|pwd|secret|token|api_?key|credentials?)($|_)", re.IGNORECASE)


_URL_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


_SENTINEL_CALL = re.compile(r"\breport_finished\(\s*\)")


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


def report_finished() -> None:
    """The sentinel: the last code cell of every report calls this, and the runner checks its output."""
    print(SENTINEL_TOKEN)
