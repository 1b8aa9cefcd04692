"""Shared by the tests: runs."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from channel_analysis.report.runner import SENTINEL_TOKEN

MONTH = "2024-02"  # an early month of the small source: few months of figures, a quick run
PARAMETERS = (
    'data: str = "../data/demo"  # data source\n'
    'month: str = "2026-10"  # report month, YYYY-MM\n'
    'lang: str = "en"  # en or zh'
)


FINISH = "from channel_analysis.report.runner import report_finished\nreport_finished()"


READS_DATA = "from pathlib import Path\nassert Path(data).is_dir(), data  # the prepared source is there\nprint(month, lang)"
KILL_PARAMETERS = 'data: str = "../data/demo"\nmonth: str = "2026-10"\nlang: str = "en"'


CONTRACT_FILES = {
    "index.html", "dealer_health.html", "acquisition_vs_retention.html", "sales_managers.html",
    "service_flow.html", "events.html", "deck.pptx", "alerts.csv", "alerts.xlsx", "dealer_health.csv", "kpis.csv",
    "data_quality.csv", "manifest.json", "notebooks",
}


def killable_stand_in(folder: Path, name: str) -> None:
    """A stand-in report: parameters, a cell that can kill the run from the kernel, the sentinel.

    The sentinel is defined in the notebook rather than imported from the package:
    the kernel then starts in well under a second, which is the cost that remains.
    """
    body = (
        "import os, signal\n"
        "from pathlib import Path\n"
        "assert Path(data).is_dir(), data\n"
        f"if os.environ.get('CHANNEL_ANALYSIS_FAULT') == 'kill:report:{name}:cell':\n"
        "    os.kill(os.getppid(), signal.SIGKILL)  # the run, while papermill waits for this cell\n"
        f"def report_finished():\n    print({SENTINEL_TOKEN!r})"
    )
    cells = [new_code_cell(KILL_PARAMETERS, metadata={"tags": ["parameters"]}), new_code_cell(body),
             new_code_cell("report_finished()")]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / f"{name}.ipynb")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def visible(out: Path) -> list[str]:
    """What a reader of ``out`` sees: everything but the hidden (dot) entries."""
    return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))


def stand_in(folder: Path, name: str, body: str = READS_DATA) -> None:
    cells = [new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}), new_code_cell(body), new_code_cell(FINISH)]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / f"{name}.ipynb")
