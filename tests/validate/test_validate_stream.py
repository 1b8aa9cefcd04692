"""Validation a slice at a time (``validate_stream``) judges a Parquet source exactly as the
in-memory validation does: the same counts, the same quarantined rows with the same reasons, the
same accepted values; and tables split into Parquet part files (one per month) read as one.

Slices of a few rows put duplicates, references and repeated headers across slice boundaries.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import channel_analysis.run.backtest as run_backtest
import channel_analysis.run.month as run_month_module
import channel_analysis.validate.stream as stream
from channel_analysis.errors import SourceError
from channel_analysis.sources.read import parquet_tables, read_source
from channel_analysis.store.views import READ_LOG
from channel_analysis.validate.memory import validate_source
from channel_analysis.validate.quality import data_quality
from channel_analysis.validate.stream import validate_parquet
from helpers.cli import cli
from helpers.damage import damaged_sources
from helpers.mini_source import BASE
from helpers.planted import _planted


def _write(folder: Path, tables: dict[str, pa.Table], parts: dict[str, list[int]] | None = None) -> Path:
    """Each table as ``<name>.parquet``, or split at the given rows into ``<name>/part-N.parquet``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        cuts = (parts or {}).get(name)
        if cuts is None:
            pq.write_table(table, folder / f"{name}.parquet")
            continue
        (folder / name).mkdir()
        bounds = [0, *cuts, table.num_rows]
        for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
            sub = folder / name / f"month={2024 + i}-01"  # a partitioned layout: nested folders
            sub.mkdir()
            pq.write_table(table.slice(lo, hi - lo), sub / "part-0.parquet")
    return folder


def _assert_same(folder: Path, work: Path, batch_rows: int) -> None:
    whole = validate_source(read_source(folder))
    location, tables = parquet_tables(folder)
    sliced = validate_parquet(location, tables, work, batch_rows=batch_rows)
    pd.testing.assert_frame_equal(data_quality(whole), data_quality(sliced))
    for name in whole.quarantine:
        pd.testing.assert_frame_equal(whole.quarantine[name], sliced.quarantine[name], obj=f"quarantine of {name}")
        accepted = pd.read_parquet(sliced.accepted[name]).set_index("source_row")
        expected = whole.tables[name][list(accepted.columns)]
        pd.testing.assert_frame_equal(expected, accepted, check_dtype=False, obj=f"accepted {name}")
    assert not (work / "typed").exists() and not (work / "spill").exists()  # nothing left behind but the result


def _slice_large_sources(monkeypatch, *, above: int, batch_rows: int) -> list:
    """Sources of more than ``above`` rows are validated a slice at a time, in slices of
    ``batch_rows``; → a list that gets an item each time that happens."""
    monkeypatch.setattr(stream, "STREAM_ROWS", above)
    monkeypatch.setattr(stream, "BATCH_ROWS", batch_rows)
    called = []
    real = stream.validate_parquet
    for user in (stream, run_backtest, run_month_module):  # where the command line, the run and the backtest call it
        monkeypatch.setattr(user, "validate_parquet", lambda *a, **k: called.append(1) or real(*a, **k))
    return called


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 1000])
def test_a_planted_source_is_judged_the_same_a_slice_at_a_time(tmp_path, batch_rows):
    folder = _write(tmp_path / "src", _planted(), parts={"orders": [4, 8], "interactions": [3]})
    _assert_same(folder, tmp_path / "work", batch_rows)


def test_every_planted_problem_is_found_with_its_reason(tmp_path):
    folder = _write(tmp_path / "src", _planted(), parts={"orders": [4, 8]})
    location, tables = parquet_tables(folder)
    result = validate_parquet(location, tables, tmp_path / "work", batch_rows=2)
    reasons = {name: dict(q["reason"]) for name, q in result.quarantine.items() if len(q)}
    assert reasons["dealers"] == {4: "region is empty", 5: "sales_manager_id 'SM9' is not in sales_managers"}
    assert reasons["orders"] == {
        6: "duplicate order_id 'O2' (first given in row 2)",
        7: "dealer_id 'D004' refers to a quarantined row of dealers (see quarantine/dealers.csv)",
        8: "dealer_id 'D999' is not in dealers",
        9: "order_date '1850-01-01 00:00:00' is not an ISO date (YYYY-MM-DD) from 1900 to 2100",
        10: "amount '0' must not be 0; quantity '-3' must not be less than 0; "
            "order_date 2023-01-01 is more than 30 days before the dealer's signed_date 2024-01-05",
        11: "amount 'inf' is not a number",
    }
    assert reasons["prospects"] == {4: (
        "status is 'signed' exactly when stage_reached is 'signed'; closed_date is before first_contact_date; "
        "touches '-1' must not be less than 0; hours_spent '-2' must not be less than 0"
    )}
    header = "dealer_id 'dealer_id' is not in dealers; sales_manager_id 'sales_manager_id' is not in sales_managers"
    assert reasons["interactions"] == {
        3: "repeated header row; " + header,
        5: "repeated header row; duplicate interaction_id 'interaction_id' (first given in row 3); " + header,
        6: "kind 'PHONE' is not one of phone, visit, message (codes are matched exactly, in lower case); "
           "duplicate interaction_id 'I1' (first given in row 1)",
    }
    assert result.rows_read == {"sales_managers": 2, "dealers": 5, "orders": 11, "interactions": 6, "service_requests": 2,
                                "expenses": 2, "prospects": 4, "events": 1, "event_attendance": 2}
    assert result.accepted_rows("orders") == 11 - 6
    accepted = pd.read_parquet(result.accepted["orders"])
    assert accepted["source_row"].tolist() == [1, 2, 3, 4, 5]  # in source order


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(source=damaged_sources(), batch_rows=st.integers(1, 4), split=st.booleans())
def test_any_damaged_source_is_judged_the_same_a_slice_at_a_time(tmp_path_factory, source, batch_rows, split):
    tables = {name: pa.Table.from_pandas(raw.frame, preserve_index=False) for name, raw in source.tables.items()}
    parts = {"orders": [2], "dealers": [1]} if split and len(source.tables["orders"].frame) > 2 else None
    root = tmp_path_factory.mktemp("damaged")
    _assert_same(_write(root / "src", tables, parts), root / "work", batch_rows)


def test_the_command_line_validates_a_large_parquet_source_a_slice_at_a_time(tmp_path, monkeypatch):
    folder = _write(tmp_path / "src", _planted(), parts={"orders": [4, 8]})
    status, out_whole, err = cli("validate", "--data", str(folder), "--out", str(tmp_path / "whole"))
    assert status == 0, err
    seen = _slice_large_sources(monkeypatch, above=10, batch_rows=3)  # the planted source has 33 rows
    status, out_sliced, err = cli("validate", "--data", str(folder), "--out", str(tmp_path / "sliced"))
    assert status == 0, err
    assert seen, "the large source was not validated a slice at a time"
    assert out_sliced == out_whole
    files = lambda d: {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}  # noqa: E731
    assert files(tmp_path / "sliced") == files(tmp_path / "whole")
    assert (tmp_path / "whole" / "quarantine" / "orders.csv").exists()


def test_a_table_as_a_folder_of_parts_reads_as_the_same_table(tmp_path):
    tables = _planted()
    one = validate_source(read_source(_write(tmp_path / "one", tables)))
    split = read_source(_write(tmp_path / "split", tables, parts={"orders": [3, 7]}))
    assert split.tables["orders"].origin == "orders/"
    parts = validate_source(split)
    pd.testing.assert_frame_equal(one.tables["orders"], parts.tables["orders"])
    pd.testing.assert_frame_equal(one.quarantine["orders"], parts.quarantine["orders"])


def test_parts_with_different_columns_are_refused_naming_both(tmp_path):
    folder = _write(tmp_path / "src", _planted(), parts={"orders": [4]})
    part = folder / "orders" / "month=2025-01" / "part-0.parquet"
    pq.write_table(pq.read_table(part).drop_columns(["product_line"]), part)
    for read in (read_source, lambda f: validate_parquet(*parquet_tables(f), tmp_path / "work")):
        with pytest.raises(SourceError) as err:
            read(folder)
        assert "orders/month=2025-01/part-0.parquet has the columns" in str(err.value)
        assert "unlike orders/month=2024-01/part-0.parquet" in str(err.value)
        assert "with the same columns" in str(err.value)


def test_a_table_given_as_a_file_and_as_a_folder_is_refused(tmp_path):
    folder = _write(tmp_path / "src", _planted(), parts={"orders": [4]})
    pq.write_table(_planted()["orders"], folder / "orders.parquet")
    for read in (read_source, parquet_tables):
        with pytest.raises(SourceError, match="table orders is given twice .*orders/ and orders.parquet; keep only one"):
            read(folder)


def test_only_a_source_all_in_parquet_is_validated_a_slice_at_a_time(tmp_path, monkeypatch):
    folder = _write(tmp_path / "src", _planted())
    monkeypatch.setattr(stream, "STREAM_ROWS", 10)
    assert stream.large_parquet(folder) is not None
    monkeypatch.setattr(stream, "STREAM_ROWS", 100)
    assert stream.large_parquet(folder) is None  # 33 rows: in memory
    monkeypatch.setattr(stream, "STREAM_ROWS", 10)
    (folder / "events.parquet").unlink()
    (folder / "events.csv").write_text(BASE["events"], encoding="utf-8")
    assert stream.large_parquet(folder) is None  # a CSV table: read whole, as CSV is


def _month_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


def test_a_backtest_of_a_large_parquet_source_writes_what_the_in_memory_one_writes(demo_parquet, tmp_path, monkeypatch):
    data = demo_parquet
    status, _, err = cli("backtest", "--data", str(data), "--months", "2025-10..2025-12", "--out", str(tmp_path / "whole"))
    assert status == 0, err
    called = _slice_large_sources(monkeypatch, above=1000, batch_rows=5000)
    status, _, err = cli("backtest", "--data", str(data), "--months", "2025-10..2025-12", "--out", str(tmp_path / "large"))
    assert status == 0, err
    assert called, "the source was not validated a slice at a time"
    whole, large = _month_files(tmp_path / "whole"), _month_files(tmp_path / "large")
    assert sorted(whole) == sorted(large) and len(whole) >= 12  # 3 months × kpis, alerts (csv, xlsx), health
    for name in whole:
        assert whole[name] == large[name], name
    alerts = pd.read_csv(tmp_path / "large" / "2025-12" / "alerts.csv")
    assert len(alerts) > 0  # the comparison covers real alerts, not empty files


def test_a_run_of_a_large_parquet_source_publishes_what_the_in_memory_run_publishes(demo_parquet, tmp_path,
                                                                                    monkeypatch):
    """The real notebooks and deck on the prepared folder of a large source (accepted files moved
    in, tables read when a report asks for them, the panel kept in its file until then)."""
    data = demo_parquet
    args = ["--data", str(data), "--month", "2025-12"]
    status, _, err = cli("run", *args, "--out", str(tmp_path / "whole"))
    assert status == 0, err
    called = _slice_large_sources(monkeypatch, above=1000, batch_rows=4000)
    reads = tmp_path / "reads.jsonl"
    monkeypatch.setenv(READ_LOG, str(reads))  # every process of the run notes what it reads
    status, _, err = cli("run", *args, "--out", str(tmp_path / "large"))
    assert status == 0, err
    assert called, "the source was not validated a slice at a time"
    # the deck and the reports read parts of the large tables and of the panel, never one whole
    read = [json.loads(line) for line in reads.read_text(encoding="utf-8").splitlines()]
    assert len({r["pid"] for r in read}) >= 3, "the reports' kernels noted no reads"
    big = ("orders", "interactions", "panel", "prospects", "service_requests", "expenses", "event_attendance")
    assert set(big) <= {r["table"] for r in read}
    whole_reads = [r for r in read if r["table"] in big and r["columns"] is None]
    assert whole_reads == [], whole_reads
    # of the prospects and the service requests only the rows that can count in the 13 months shown
    unfiltered = [r for r in read if r["table"] in ("prospects", "service_requests") and not r["where"]]
    assert unfiltered == [], unfiltered
    whole, large = tmp_path / "whole" / "2025-12", tmp_path / "large" / "2025-12"
    for name in ("kpis.csv", "alerts.csv", "dealer_health.csv", "data_quality.csv"):
        assert (whole / name).read_bytes() == (large / name).read_bytes(), name
    assert sorted(p.name for p in large.iterdir()) == sorted(p.name for p in whole.iterdir())
    manifest = lambda d: json.loads((d / "manifest.json").read_text(encoding="utf-8"))  # noqa: E731
    assert manifest(large)["row_counts"] == manifest(whole)["row_counts"]
    assert manifest(large)["input_checksums"] == manifest(whole)["input_checksums"]
    # the reports say the same: the text of every page, once the run's own times are left out
    for page in ("index.html", "dealer_health.html", "acquisition_vs_retention.html", "sales_managers.html",
                 "service_flow.html", "events.html"):
        assert _text(whole / page) == _text(large / page), page


def _text(page: Path) -> str:
    """The visible text of a report page, without the lines that carry the run's time."""
    import re

    html = page.read_text(encoding="utf-8")
    text = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
    return "\n".join(line for line in (" ".join(text.split()).split(" ")) if not re.search(r"\d\d:\d\d:\d\d", line))


def test_a_table_with_a_header_and_no_rows_is_judged_the_same(tmp_path):
    tables = _planted()
    tables["orders"] = tables["orders"].slice(0, 0)  # usable: a required table may be empty
    tables["events"] = tables["events"].slice(0, 0)
    _assert_same(_write(tmp_path / "src", tables), tmp_path / "work", batch_rows=2)
