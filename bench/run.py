"""The full monthly run on the demo world against the papermill floor, in the same run.

Variants, each in a fresh child process, alternating over the rounds:

* ``run``: ``channel-analysis run`` on the demo world (validation, figures, deck, the five
  reports and the landing page, publication);
* ``floor``: the same six notebooks executed and exported the same way (``execute_report`` +
  ``export_html``) with one trivial cell each instead of their sections: what papermill,
  kernel starts and nbconvert cost with no computation;
* ``panel``: the dealer × month panel alone, on the validated demo tables.

Target (from the issue): run ≤ 2 × floor + panel. Medians of ``--rounds`` rounds.

    .venv/bin/python bench/run.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
MONTH = "2026-10"

FLOOR = """
import sys, tempfile
from pathlib import Path
import nbformat
from nbformat.v4 import new_code_cell, new_notebook
from channel_analysis.run.month import LANDING, REPORTS
from channel_analysis.report.export import export_html
from channel_analysis.report.runner import execute_report
work = Path(tempfile.mkdtemp())
params = 'data: str = "x"  # source\\nmonth: str = "2026-10"  # month\\nlang: str = "en"  # language'
for name in (*REPORTS, LANDING):
    cells = [new_code_cell(params, metadata={"tags": ["parameters"]}), new_code_cell("print(month)"),
             new_code_cell("from channel_analysis.report.runner import report_finished\\nreport_finished()")]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, work / f"{name}.ipynb")
    executed = execute_report(work / f"{name}.ipynb", {"data": sys.argv[1], "month": "2026-10", "lang": "en"},
                              workdir=work, output_notebook=work / "out" / f"{name}.ipynb")
    export_html(executed, work / f"{name}.html", title=name)
"""

PANEL = """
import sys
from channel_analysis.sources.read import read_source
from channel_analysis.panel import dealer_month_panel
from channel_analysis.validate.memory import validate_source
import time
tables = validate_source(read_source(sys.argv[1])).tables
t = time.perf_counter()
dealer_month_panel(tables, as_of="2026-10")
print(time.perf_counter() - t)
"""


def demo() -> Path:
    folder = OUT / "run-demo"
    if not (folder / "dealers.csv").exists():
        from channel_analysis.synthetic import write_demo_data

        write_demo_data(folder, dealers=1000, start="2023-01", end=MONTH, seed=7)
    return folder


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and every process it waited for, its stdout).

    CPU seconds hardly move when other work shares the machine; wall seconds do."""
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, _children_cpu() - cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = demo()
    cli = str(Path(sys.executable).with_name("channel-analysis"))
    results: dict[str, list[float]] = {"run": [], "floor": [], "panel": []}
    cpu: dict[str, list[float]] = {"run": [], "floor": []}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as out:
            wall, used, _ = timed([cli, "run", "--data", str(data), "--month", MONTH, "--out", out])
        results["run"].append(wall)
        cpu["run"].append(used)
        wall, used, _ = timed([sys.executable, "-c", FLOOR, str(data)])
        results["floor"].append(wall)
        cpu["floor"].append(used)
        results["panel"].append(float(timed([sys.executable, "-c", PANEL, str(data)])[2].strip()))
    med = {k: statistics.median(v) for k, v in results.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    budget = 2 * med["floor"] + med["panel"]
    print(f"{'variant':<8} {'median s':>9} {'CPU s':>7}  rounds (wall s)")
    for k, v in results.items():
        used = f"{med_cpu[k]:>7.1f}" if k in med_cpu else f"{'':>7}"
        print(f"{k:<8} {med[k]:>9.2f} {used}  {', '.join(f'{x:.1f}' for x in v)}")
    print(f"run / floor = {med['run'] / med['floor']:.2f} wall, {med_cpu['run'] / med_cpu['floor']:.2f} CPU; "
          f"target run <= 2 x floor + panel = {budget:.1f} s: {'met' if med['run'] <= budget else 'not met'} "
          f"(run {med['run']:.1f} s)")
    OUT.mkdir(exist_ok=True)
    (OUT / "run.json").write_text(
        json.dumps({"wall": results, "cpu": cpu, "median": med, "median_cpu": med_cpu, "budget": budget}, indent=2)
    )


if __name__ == "__main__":
    main()
