"""The monthly run as a scheduler sees it: what is published, and what a failure leaves.

The real report notebooks are exercised in test_notebooks.py; here the run's
machinery is tested with one-cell stand-ins that follow the same conventions,
so that each failure path costs one kernel start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from channel_analysis.cli import main
from channel_analysis.run import publish
from channel_analysis.run.month import LANDING, REPORTS
from channel_analysis.run.outputs import ALERTS_CSV
from helpers.runs import stand_in
from helpers.stand_ins import use_stand_ins

CONTRACT_FILES = {
    "index.html", "dealer_health.html", "acquisition_vs_retention.html", "sales_managers.html",
    "service_flow.html", "events.html", "alerts.csv", "alerts.xlsx", "dealer_health.csv", "kpis.csv",
    "data_quality.csv", "manifest.json", "notebooks",
}


@pytest.fixture(scope="module")
def world(demo_world) -> Path:
    return demo_world


@pytest.fixture
def notebooks(tmp_path, monkeypatch) -> Path:
    return use_stand_ins(tmp_path, monkeypatch, stand_in)


def run(world: Path, out: Path, *extra: str) -> int:
    return main(["run", "--data", str(world), "--month", "2025-12", "--out", str(out), *extra])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_run_publishes_every_contract_file_and_the_counts_reconcile(world, notebooks, tmp_path, capsys):
    out = tmp_path / "reports"
    assert run(world, out) == 0
    month = out / "2025-12"
    assert CONTRACT_FILES <= {p.name for p in month.iterdir()}
    assert "published" in capsys.readouterr().out
    quality = pd.read_csv(month / "data_quality.csv")
    assert (quality.rows_read == quality.rows_accepted + quality.rows_quarantined).all()
    manifest = json.loads((month / "manifest.json").read_text())
    assert manifest["parameters"]["month"] == "2025-12"
    assert set(manifest["input_checksums"]) >= {"dealers.csv", "orders.csv"}
    assert manifest["row_counts"]["orders"]["rows_read"] == quality.set_index("table").loc["orders", "rows_read"]
    alerts = pd.read_csv(month / "alerts.csv", dtype=str)
    assert list(alerts.columns) == ALERTS_CSV
    dealers = pd.read_csv(world / "dealers.csv", dtype=str)
    assert set(alerts.dealer_id) <= set(dealers.dealer_id)
    health = pd.read_csv(month / "dealer_health.csv")
    assert health.health_score.between(0, 100).all()
    # nothing but the publication is left behind
    assert not any((out / ".staging").iterdir())


def test_a_rerun_gives_byte_identical_csvs(world, notebooks, tmp_path):
    out = tmp_path / "reports"
    assert run(world, out) == 0
    first = {k: v for k, v in snapshot(out / "2025-12").items() if k.endswith(".csv")}
    assert run(world, out) == 0
    second = {k: v for k, v in snapshot(out / "2025-12").items() if k.endswith(".csv")}
    assert first == second and len(first) >= 4


@pytest.mark.parametrize(
    "body, words",
    [
        ("raise ValueError('boom in the cell')", "boom in the cell"),
        ("import sys\nsys.exit(0)", "stopped before its end"),
        ("import os\nos.kill(os.getpid(), 9)", "kernel"),
    ],
    ids=["cell raises", "sys.exit(0)", "kernel killed"],
)
def test_a_failed_report_keeps_the_previous_publication(world, notebooks, tmp_path, capsys, body, words):
    out = tmp_path / "reports"
    assert run(world, out) == 0
    before = snapshot(out / "2025-12")
    stand_in(notebooks, "service_flow", body)
    assert run(world, out) == 1
    err = capsys.readouterr().err
    assert "service_flow" in err and words.lower() in err.lower()
    assert "Traceback" not in err
    assert ".failed" in err  # the message points at the kept notebook, not the vanished staging folder
    assert snapshot(out / "2025-12") == before
    failed = list((out / ".failed").iterdir())
    assert len(failed) == 1 and (failed[0] / "notebooks" / "service_flow.ipynb").exists()


def test_an_unusable_source_publishes_nothing(world, notebooks, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dealers.csv").write_text((world / "dealers.csv").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "reports"
    assert run(broken, out) == 2
    assert "orders" in capsys.readouterr().err
    assert not (out / "2025-12").exists()


def test_strict_stops_on_a_quarantined_row(world, notebooks, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in world.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    with open(bad / "orders.csv", "a", encoding="utf-8") as fh:
        fh.write("X1,NOPE,2025-01-01,100,1,parts\n")
    out = tmp_path / "reports"
    assert run(bad, out, "--strict") == 2
    assert "quarantined" in capsys.readouterr().err
    assert not (out / "2025-12").exists()
    assert run(bad, out) == 0  # without --strict the row is set aside and the month published
    assert (out / "2025-12" / "quarantine" / "orders.csv").exists()


def test_a_held_lock_refuses_a_second_run(world, notebooks, tmp_path, capsys):
    out = tmp_path / "reports"
    out.mkdir()
    (out / ".2025-12.lock").write_text(str(os.getppid()))  # a live process holds it
    assert run(world, out) == 1
    assert "in progress" in capsys.readouterr().err
    (out / ".2025-12.lock").write_text("999999999")  # a dead one: taken over
    assert run(world, out) == 0


def test_the_log_file_records_the_steps(world, notebooks, tmp_path):
    log = tmp_path / "run.log"
    assert run(world, tmp_path / "reports", "--log", str(log)) == 0
    text = log.read_text(encoding="utf-8")
    assert "validating" in text and "report dealer_health" in text and "published" in text


def test_a_month_without_any_order_is_published_with_a_warning_in_the_log(world, notebooks, tmp_path, capsys):
    # the world's orders end in December 2025: February 2026 has ended but nothing in it was loaded
    log = tmp_path / "run.log"
    assert main(["run", "--data", str(world), "--month", "2026-02", "--out", str(tmp_path / "reports"),
                 "--log", str(log)]) == 0
    said = "no order in the source is dated in 2026-02: if the month's orders are not loaded yet"
    assert f"warning: {said}" in capsys.readouterr().err
    assert f"WARNING 2026-02: {said}" in log.read_text(encoding="utf-8")
    assert run(world, tmp_path / "reports", "--log", str(log)) == 0  # December has its orders: nothing said
    assert "warning" not in capsys.readouterr().err


def test_a_month_that_has_not_ended_is_refused_before_anything_is_read(tmp_path, capsys):
    now = pd.Timestamp.today().to_period("M")
    out = tmp_path / "reports"
    for month in (now, now + 2):
        assert main(["run", "--data", str(tmp_path / "nothing"), "--month", str(month), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"month {month} has not ended" in err and f"run {now - 1}, the last whole month" in err
    assert main(["backtest", "--data", str(tmp_path), "--months", f"{now - 3}..{now}", "--out", str(out)]) == 2
    assert f"month {now} has not ended" in capsys.readouterr().err
    assert not out.exists()


def test_backtest_writes_the_same_tables_as_a_run(world, notebooks, tmp_path):
    assert run(world, tmp_path / "reports") == 0
    assert main(["backtest", "--data", str(world), "--months", "2025-11..2025-12", "--out", str(tmp_path / "bt")]) == 0
    for name in ("kpis.csv", "alerts.csv", "dealer_health.csv"):
        assert (tmp_path / "bt" / "2025-12" / name).read_bytes() == (tmp_path / "reports" / "2025-12" / name).read_bytes()
    assert (tmp_path / "bt" / "2025-11" / "kpis.csv").exists()


@pytest.fixture
def pg_world(pg_server, world, monkeypatch) -> str:
    """The small demo world loaded into its own PostgreSQL database; URL without the password."""
    import psycopg
    import sqlalchemy as sa

    from channel_analysis.sources.read import read_source

    with psycopg.connect(pg_server.url, password=pg_server.password, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS run_world")
        con.execute("CREATE DATABASE run_world")
    url = pg_server.url.rsplit("/", 1)[0] + "/run_world"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                              connect_args={"password": pg_server.password})
    with engine.begin() as con:
        for name, raw in read_source(world).tables.items():
            raw.frame.to_sql(name, con, index=False)
    engine.dispose()
    return url


@pytest.mark.postgres
def test_no_password_in_any_output(pg_server, pg_world, notebooks, tmp_path, monkeypatch):
    # once from the environment, once (discouraged) inside the URL: neither may leak
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    out, log = tmp_path / "reports", tmp_path / "run.log"
    assert main(["run", "--data", pg_world, "--month", "2025-12", "--out", str(out), "--log", str(log)]) == 0
    monkeypatch.delenv("PGPASSWORD")
    with_password = pg_world.replace("@", f":{pg_server.password}@", 1)
    assert main(["run", "--data", with_password, "--month", "2025-12", "--out", str(out), "--log", str(log)]) == 0
    secret = pg_server.password.encode()
    files = [p for p in out.rglob("*") if p.is_file()] + [log]
    assert len(files) > 10
    leaks = [str(p) for p in files if secret in p.read_bytes()]
    assert leaks == []
    assert b"***" in (out / "2025-12" / "manifest.json").read_bytes()


@pytest.mark.parametrize("month", ["../2025-12", "2025-12/../../x", "2025-13", "2025-1", "202512"])
def test_a_month_that_is_not_yyyy_mm_is_refused_before_any_path_is_built(month, tmp_path, capsys):
    out = tmp_path / "reports"
    assert main(["run", "--data", str(tmp_path), "--month", month, "--out", str(out)]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
    assert not out.exists()
    assert main(["backtest", "--data", str(tmp_path), "--months", f"{month}..2025-12", "--out", str(out)]) == 2
    assert not out.exists()


def test_a_relative_output_folder_works(world, notebooks, tmp_path, monkeypatch):
    # the notebooks run in their own working directory: paths handed to them must not be relative
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--data", str(world), "--month", "2025-12", "--out", "reports"]) == 0
    assert (tmp_path / "reports" / "2025-12" / "index.html").exists()


def test_only_the_newest_failed_runs_of_a_month_are_kept(tmp_path):
    # six earlier failures of 2025-12 (January 2026, one a day) and one of 2025-11; a seventh fails now
    out = tmp_path / "reports"
    failed = out / publish.FAILED
    earlier = [f"2025-12-2026010{day}T060000-{100 + day}" for day in range(1, 7)]
    for name in [*earlier, "2025-11-20251201T060000-99"]:
        (failed / name).mkdir(parents=True)
    staging = publish.staging_dir(out, "2025-12")
    (staging / "kpis.csv").write_text("x\n")
    kept = publish.keep_failed(staging, out, "2025-12")
    assert publish.KEEP_FAILED == 5
    # the newest five of 2025-12: this one and the four latest before it; other months untouched
    assert sorted(p.name for p in failed.iterdir()) == ["2025-11-20251201T060000-99", *earlier[2:], kept.name]
    assert (kept / "kpis.csv").read_text() == "x\n"


DIGESTS = (  # a stand-in report: what the prepared source holds, table by table, as numbers to compare
    "import pandas as pd\n"
    "from channel_analysis.store.prepared import load_source\n"
    "tables = load_source(data).tables\n"
    "for name in sorted(tables):\n"
    "    frame = tables[name]\n"
    "    print(name, len(frame), dict(frame.dtypes.astype(str)), int(pd.util.hash_pandas_object(frame).sum()))"
)


def _printed(folder: Path, name: str) -> str:
    cells = nbformat.read(folder / "notebooks" / f"{name}.ipynb", as_version=4).cells
    return "".join(o.get("text", "") for c in cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.postgres
def test_a_run_of_a_postgresql_source_publishes_what_a_run_of_its_files_publishes(
    pg_server, pg_world, world, notebooks, tmp_path, monkeypatch
):
    """Judged inside the server, the accepted rows streamed to files a batch at a time: the same
    tables, the same data quality and the same prepared tables for the reports as a run of the files."""
    from channel_analysis.run import month as run_module
    from channel_analysis.sources import database, postgres

    for name in (*REPORTS, LANDING):
        stand_in(notebooks, name, DIGESTS)
    assert run(world, tmp_path / "files") == 0
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    monkeypatch.setattr(run_module, "read_source", lambda *a, **k: pytest.fail("the run read the database whole"))
    read_whole, batches = [], {}
    whole, stream = postgres.Snapshot.read_whole, postgres.Snapshot.stream

    def noted_whole(self, table):
        read_whole.append(table)
        return whole(self, table)

    def noted_stream(self, table, sql, **params):
        for batch in stream(self, table, sql, **params):
            batches.setdefault(table, []).append(len(batch))
            yield batch

    monkeypatch.setattr(postgres.Snapshot, "read_whole", noted_whole)
    monkeypatch.setattr(postgres.Snapshot, "stream", noted_stream)
    monkeypatch.setattr(postgres, "_BATCH", 500)
    monkeypatch.setattr(database, "_BATCH", 500)
    assert main(["run", "--data", pg_world, "--month", "2025-12", "--out", str(tmp_path / "db")]) == 0

    from channel_analysis.validate.postgres import REFERENCED

    assert sorted(read_whole) == sorted(REFERENCED)  # only the tables others refer to, as in validation
    assert max(batches["orders"]) == 500 and len(batches["orders"]) > 10  # the orders came a batch at a time
    files, db = tmp_path / "files" / "2025-12", tmp_path / "db" / "2025-12"
    for name in ("kpis.csv", "alerts.csv", "dealer_health.csv", "data_quality.csv"):
        assert (files / name).read_bytes() == (db / name).read_bytes(), name
    manifest = lambda d: json.loads((d / "manifest.json").read_text(encoding="utf-8"))  # noqa: E731
    assert manifest(db)["row_counts"] == manifest(files)["row_counts"]
    printed = _printed(files, "index")
    assert sorted(line.split()[0] for line in printed.splitlines()[:-1]) == sorted(manifest(files)["row_counts"])
    assert _printed(db, "index") == printed
