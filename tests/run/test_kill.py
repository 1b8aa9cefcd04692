"""The monthly run killed with SIGKILL anywhere: no damage a reader can see, and the next run recovers.

Each run is ``channel-analysis run`` in its own process, killed by SIGKILL at a
named point (``CHANNEL_ANALYSIS_FAULT=kill:<point>``, see channel_analysis/faults.py)
from reading the source to the last rename of the publication; at the ``:cell``
points the report's kernel kills the run while papermill waits on a cell. After
every kill:

- the process really died of SIGKILL, at the stage the point belongs to (the
  run's ``--log`` names the last step it began);
- a reader of OUT sees only complete publications: outside the hidden folders
  there is the month and nothing else, byte-identical to the previous publication
  when the kill came before the swap, the new complete one when after it;
- the next run, started on what the killed one left, cleans those leftovers up,
  succeeds and publishes a new complete month.

The notebooks are stand-ins (a real papermill kernel each), the source is the
small one of mini_source.py. Python needs seconds to import what a run uses, so
the runs are forked from one process that imported it all once: each is still a
process of its own, started by ``cli.main`` as the console script starts it, and
killed for real.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from channel_analysis.report.runner import SENTINEL_TOKEN
from channel_analysis.run import month as monthly
from channel_analysis.run import publish
from helpers.mini_source import BASE
from helpers.runs import CONTRACT_FILES, MONTH, killable_stand_in, snapshot, visible

# A process that imports the run's modules once, then forks one child per job
# (a JSON line: argv, env, output file) and answers with the child's exit status.
LAUNCHER = r"""
import importlib, json, os, sys, traceback
from pathlib import Path

import channel_analysis.run.month as monthly
from channel_analysis.cli import main

for name in ("channel_analysis.sources.read", "channel_analysis.validate.memory", "channel_analysis.panel",
             "channel_analysis.run.outputs", "channel_analysis.metrics.kpis", "channel_analysis.early_warning",
             "channel_analysis.deck", "channel_analysis.report.runner", "channel_analysis.report.month_data",
             "channel_analysis.figures.month", "channel_analysis.store.prepared", "channel_analysis.deck.build",
             "ibis.backends.duckdb", "pandera", "openpyxl", "jinja2", "papermill", "nbconvert"):
    importlib.import_module(name)  # what a run imports as it goes

monthly.NOTEBOOKS = Path(sys.argv[1])
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            log = os.open(job["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.environ.update(job["env"])
            code = main(job["argv"])
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"exit": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class Runs:
    """``channel-analysis run`` of MONTH into ``out``, each in a process forked from the launcher."""

    def __init__(self, base: Path):
        self.base, self.out, self.count = base, base / "reports", 0
        source, notebooks, self.tmp = base / "source", base / "notebooks", base / "tmp"
        for folder in (source, notebooks, self.tmp):
            folder.mkdir()
        for name, text in BASE.items():
            (source / f"{name}.csv").write_text(text, encoding="utf-8")
        for name in (*monthly.REPORTS, monthly.LANDING):
            killable_stand_in(notebooks, name)
        self.source = source
        # TMPDIR: the kernels' socket folders, which killed runs leave; one BLAS thread: fewer threads to fork
        env = {**os.environ, "TMPDIR": str(self.tmp), "OPENBLAS_NUM_THREADS": "1"}
        env.pop("CHANNEL_ANALYSIS_FAULT", None)
        self.launcher = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(notebooks)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env=env, cwd=base,
        )
        assert self.launcher.stdout.readline().strip() == "ready"

    def __call__(self, kill_at: str | None = None) -> tuple[int, Path]:
        """One run (killed at ``kill_at``): (its exit status, its log)."""
        self.count += 1
        log, output = self.base / f"run{self.count}.log", self.base / f"run{self.count}.out"
        argv = ["run", "--data", str(self.source), "--month", MONTH, "--out", str(self.out), "--log", str(log)]
        job = {"argv": argv, "env": {"CHANNEL_ANALYSIS_FAULT": f"kill:{kill_at}" if kill_at else ""},
               "output": str(output)}
        self.launcher.stdin.write(json.dumps(job) + "\n")
        self.launcher.stdin.flush()
        ready, _, _ = select.select([self.launcher.stdout], [], [], 300)
        assert ready, f"run {self.count} ({kill_at}) still running after 5 minutes"
        return json.loads(self.launcher.stdout.readline())["exit"], log

    def close(self) -> None:
        self.launcher.stdin.close()
        self.launcher.wait(timeout=60)


def complete(month: Path) -> dict:
    """The manifest of a complete publication at ``month`` (asserting that it is one)."""
    assert CONTRACT_FILES <= {p.name for p in month.iterdir()}
    for page in month.glob("*.html"):
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>"), page.name
    executed = sorted(p.stem for p in (month / "notebooks").glob("*.ipynb"))
    assert executed == sorted((*monthly.REPORTS, monthly.LANDING))
    for notebook in (month / "notebooks").glob("*.ipynb"):
        assert SENTINEL_TOKEN in notebook.read_text(encoding="utf-8"), notebook.name
    manifest = json.loads((month / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["month"] == MONTH
    return manifest


def last_step(log: Path) -> str:
    """The last step the run's log says it began."""
    steps = [line.split(f"{MONTH}: ", 1)[1] for line in log.read_text(encoding="utf-8").splitlines()
             if f" {MONTH}: " in line]
    return steps[-1] if steps else ""


def leftovers(out: Path) -> set[str]:
    """The hidden working folders' entries (``.staging/x``, ``.retired/y`` ...) and the lock."""
    found = {f".{MONTH}.lock"} & {p.name for p in out.iterdir()}
    for hidden in (publish.STAGING, publish.RETIRED, publish.FAILED):
        if (out / hidden).is_dir():
            found |= {f"{hidden}/{p.name}" for p in (out / hidden).iterdir()}
    return found


# (kill point, the step the run's log names last), in run order within each phase.
# The points after the swap (PUBLISHED) close the phases: a run killed there has
# published a new complete month, after cleaning up what the kills before it left.
PUBLISHED = {"publish:exchanged", "publish:retired", "publish:done"}
POINTS = [
    # reading and validating the source, the month's tables, the deck
    ("reading the source", ""),  # nothing logged before the first step
    ("validating", "reading the source"),
    ("publish:staging", "validating"),
    ("figures of the month", "validating"),
    ("management deck", "figures of the month"),
    ("publish:exchanged", "publishing"),
    # the report notebooks: before, during and after papermill, around the HTML export
    ("report:dealer_health:execute", "report dealer_health"),
    ("report:dealer_health:cell", "report dealer_health"),
    ("report:dealer_health:executed", "report dealer_health"),
    ("report:dealer_health:html", "report dealer_health"),
    ("report:dealer_health:html-written", "report dealer_health"),
    ("report:acquisition_vs_retention:cell", "report acquisition_vs_retention"),
    ("report:sales_managers:executed", "report sales_managers"),
    ("report:service_flow:html", "report service_flow"),
    ("report:events:execute", "report events"),
    ("landing page", "report events"),
    ("report:index:html-written", "landing page"),
    ("publish:retired", "publishing"),
    # the publication
    ("publishing", "landing page"),
    ("publish:synced", "publishing"),
    ("publish:done", "publishing"),
]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX) to start the runs warm")
def test_a_run_killed_at_any_point_leaves_the_publication_whole_and_the_next_run_recovers(tmp_path):
    assert len(POINTS) >= 20
    runs = Runs(tmp_path)
    try:
        status, _ = runs()
        assert status == 0, (tmp_path / "run1.out").read_text()
        complete(runs.out / MONTH)
        before = snapshot(runs.out / MONTH)
        for point, step in POINTS:
            started = datetime.now().astimezone().replace(microsecond=0)
            status, log = runs(kill_at=point)
            assert status == -signal.SIGKILL, f"{point}: exit status {status}, not killed"
            assert last_step(log) == step, point
            assert visible(runs.out) == [MONTH], point
            if point in PUBLISHED:
                manifest = complete(runs.out / MONTH)
                assert datetime.strptime(manifest["started"], "%Y-%m-%dT%H:%M:%S%z") >= started, point
                assert snapshot(runs.out / MONTH) != before, point
                before = snapshot(runs.out / MONTH)
            else:
                assert snapshot(runs.out / MONTH) == before, f"{point}: the publication changed"
            # a rerun on what the kill left succeeds, publishes a new complete month, leaves nothing
            status, _ = runs()
            assert status == 0, (point, (tmp_path / f"run{runs.count}.out").read_text())
            assert visible(runs.out) == [MONTH], point
            complete(runs.out / MONTH)
            assert snapshot(runs.out / MONTH) != before, point
            assert leftovers(runs.out) == set(), point
            assert not list(runs.tmp.glob("run-*")), point  # no working files in the system's temporary folder
            before = snapshot(runs.out / MONTH)
        status, _ = runs()
        assert status == 0, (tmp_path / f"run{runs.count}.out").read_text()
        assert visible(runs.out) == [MONTH]
        complete(runs.out / MONTH)
        assert snapshot(runs.out / MONTH) != before
        assert leftovers(runs.out) == set()
    finally:
        runs.close()


class Killed(BaseException):
    """Stands for SIGKILL in-process: nothing catches it, so nothing cleans up."""


def fake_publication(folder: Path, text: str) -> None:
    (folder / "notebooks").mkdir(parents=True)
    (folder / "index.html").write_text(f"<html>{text}</html>", encoding="utf-8")
    (folder / "notebooks" / "index.ipynb").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("point, in_place", [
    ("publish:synced", "old"), ("publish:set-aside", "old"), ("publish:retired", "new"), ("publish:done", "new"),
])
def test_without_the_atomic_exchange_a_kill_between_the_renames_is_repaired_by_the_next_run(
    tmp_path, monkeypatch, point, in_place
):
    out = tmp_path / "reports"
    fake_publication(out / MONTH, "old")
    fake_publication(out / publish.STAGING / f"{MONTH}-999999999", "new")  # a run whose process is gone
    expected = {"old": snapshot(out / MONTH), "new": snapshot(out / publish.STAGING / f"{MONTH}-999999999")}

    def kill(name: str) -> None:
        if name == point:
            raise Killed(name)

    monkeypatch.setattr(publish, "_exchange", lambda a, b: False)  # a system without RENAME_EXCHANGE
    monkeypatch.setattr(publish, "checkpoint", kill)
    with pytest.raises(Killed):
        publish.publish(out / publish.STAGING / f"{MONTH}-999999999", out, MONTH)
    if point == "publish:set-aside":
        assert not (out / MONTH).exists()  # the window the exchange closes: no month until the next run
    with publish.month_lock(out, MONTH):  # the next run takes the lock and repairs
        pass
    assert visible(out) == [MONTH]
    assert snapshot(out / MONTH) == expected[in_place]
    assert leftovers(out) == set()


def test_the_exchange_swaps_two_folders_in_one_step(tmp_path):
    fake_publication(tmp_path / "a", "A")
    fake_publication(tmp_path / "b", "B")
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    if not publish._exchange(tmp_path / "a", tmp_path / "b"):
        pytest.skip("this system cannot exchange two folders atomically (renameat2 RENAME_EXCHANGE)")
    assert (snapshot(tmp_path / "a"), snapshot(tmp_path / "b")) == (b, a)
