"""The prepared folder a run writes and every report reads: the validated frames exactly, a marker
of row counts and checksums, a folder refused by name when a file changed, and parts of a table
read alone.

Checked on the small hand-written source of tests/helpers/mini_source.py.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from channel_analysis import schema
from channel_analysis.errors import ChannelAnalysisError
from channel_analysis.report.month_data import month_data
from channel_analysis.sources.read import read_source
from channel_analysis.store.prepared import MARKER, PreparedSourceWarning, read_prepared_source, write_prepared_source
from channel_analysis.validate.memory import validate_source

TYPES = {schema.TEXT: "str", schema.CODE: "str", schema.DATE: "datetime64", schema.TIMESTAMP: "datetime64",
         schema.NUMBER: "float64", schema.INTEGER: "Int64", schema.BOOLEAN: "boolean"}  # fmt: skip


@pytest.fixture()
def validated(mini_csv):
    return validate_source(read_source(mini_csv))


@pytest.fixture()
def prepared(validated, tmp_path):
    return write_prepared_source(validated.tables, tmp_path / "prepared")


# --------------------------------------------------------------------------- the prepared folder


def test_prepared_folder_reads_back_the_validated_frames_exactly(validated, prepared):
    tables = read_prepared_source(prepared)
    assert list(tables) == list(validated.tables)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, validated.tables[name])  # RangeIndex and Index of ints are "equiv"
        for column in frame.columns:  # the types validation gives: str ids, datetimes, floats, Int64, boolean
            kind = schema.kind_of(name, column)
            assert str(frame[column].dtype).startswith(TYPES[kind]), (name, column, frame[column].dtype)
    assert tables["orders"].index.name == "source_row"


def test_a_part_of_a_table_is_read_alone_and_asking_for_a_table_reads_nothing(validated, prepared, monkeypatch):
    import channel_analysis.store.views as rd
    from channel_analysis.months import Month
    from channel_analysis.store.prepared import load_source

    tables = load_source(prepared).tables.as_of(Month.parse("2024-06"))
    read = []
    real = rd._prepared_table
    monkeypatch.setattr(rd, "_prepared_table", lambda path, *a, **k: read.append((path.stem, k)) or real(path, *a, **k))
    assert "orders" in tables and "nothing" not in tables and read == []  # a membership test reads no file
    assert rd.table_rows(tables, "orders") == 4 and read == []  # O4 of 2024-07-01 is after the month
    assert rd.table_rows(validated.tables, "orders") == 5
    since = pd.Timestamp("2024-02-01")
    part = rd.table_part(tables, "orders", ["order_date", "amount", "no_such_column"], since)
    assert read == [("orders", {"columns": ["order_date", "amount", "no_such_column"], "since": since, "where": None})]
    orders = validated.tables["orders"]
    # O1 2024-01-20 is before the part, O4 2024-07-01 after the month: O2, O3 and O5 remain
    expected = orders.loc[(orders["order_date"] >= since) & (orders["order_date"] < "2024-07-01"), ["order_date", "amount"]]
    assert expected.index.tolist() == [2, 3, 5]
    pd.testing.assert_frame_equal(part, expected)
    full = tables["orders"]  # read whole once; a part is then cut from it, not read again
    pd.testing.assert_frame_equal(rd.table_part(tables, "orders", ["order_date", "amount"], since), expected)
    assert len(read) == 2 and len(full) == 4
    pd.testing.assert_frame_equal(rd.table_part(validated.tables, "orders", ["order_date", "amount"], since),
                                  orders.loc[orders["order_date"] >= since, ["order_date", "amount"]])  # frames in memory
    # only rows holding given values, read so (the file) or cut so (a frame in memory)
    visits = rd.table_part(tables, "interactions", ["dealer_id", "kind"], where=[{"kind": ["visit"]}])
    assert visits["kind"].tolist() == ["visit"] and visits.index.tolist() == [3]
    pd.testing.assert_frame_equal(rd.table_part(validated.tables, "interactions", ["dealer_id", "kind"],
                                                where=[{"kind": ["visit"]}]), visits)
    # alternatives: every column of one of them holds one of its values (I1 phone out, I2 phone in, I3 visit)
    for where, rows in (([{"kind": ["phone"], "direction": ["outbound"]}, {"kind": ["visit"]}], [1, 3]),
                        ([{"kind": ["phone", "visit"], "direction": ["inbound"]}], [2])):  # fmt: skip
        part = rd.table_part(tables, "interactions", ["kind", "direction"], where=where)
        assert part.index.tolist() == rows
        pd.testing.assert_frame_equal(rd.table_part(validated.tables, "interactions", ["kind", "direction"],
                                                    where=where), part)  # fmt: skip


def test_marker_lists_rows_and_checksums_and_only_parquet_files_are_written(validated, prepared):
    marker = json.loads((prepared / MARKER).read_text(encoding="utf-8"))
    assert set(marker["tables"]) == set(validated.tables)
    assert marker["tables"]["orders"]["rows"] == len(validated.tables["orders"]) == 5
    assert all(len(entry["sha256"]) == 64 for entry in marker["tables"].values())
    assert sorted(p.name for p in prepared.iterdir()) == sorted([MARKER] + [f"{t}.parquet" for t in validated.tables])


def test_prepared_folder_is_itself_a_valid_contract_source(validated, prepared):
    again = validate_source(read_source(prepared))
    assert again.quarantined_total == 0
    for name, frame in validated.tables.items():
        shown = again.tables[name][list(frame.columns)].reset_index(drop=True)
        pd.testing.assert_frame_equal(shown, frame.reset_index(drop=True), check_dtype=False)


def test_month_data_reads_a_prepared_folder_without_validating_and_agrees_with_the_csv_source(mini_csv, prepared):
    from_csv, from_prepared = month_data(str(mini_csv), "2024-06"), month_data(str(prepared), "2024-06")
    assert (from_csv.prepared, from_prepared.prepared) == (False, True)
    pd.testing.assert_frame_equal(from_prepared.kpis, from_csv.kpis)
    pd.testing.assert_frame_equal(from_prepared.health, from_csv.health)


def test_a_changed_parquet_file_is_refused_by_name_and_month_data_validates_the_folder_instead(prepared):
    orders = pd.read_parquet(prepared / "orders.parquet")
    orders.iloc[:-1].to_parquet(prepared / "orders.parquet")  # one row gone
    with pytest.raises(ChannelAnalysisError, match=r"orders\.parquet changed since it was written"):
        read_prepared_source(prepared)
    with pytest.warns(PreparedSourceWarning, match="orders.parquet"):
        md = month_data(str(prepared), "2024-06")
    assert not md.prepared
    assert "O5" not in set(md.tables["orders"]["order_id"])  # what the folder now holds, validated


def test_a_missing_file_or_a_stray_file_is_refused(prepared):
    (prepared / "notes.csv").write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(ChannelAnalysisError, match="notes.csv"):
        read_prepared_source(prepared)
    (prepared / "notes.csv").unlink()
    (prepared / "events.parquet").unlink()
    with pytest.raises(ChannelAnalysisError, match="events.parquet is missing"):
        read_prepared_source(prepared)


def test_writing_needs_a_folder_of_its_own_but_replaces_an_earlier_prepared_folder(validated, prepared, tmp_path):
    write_prepared_source({k: v for k, v in validated.tables.items() if k != "events"}, prepared)
    assert not (prepared / "events.parquet").exists()  # the earlier folder's files are gone
    assert "events" not in read_prepared_source(prepared)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "orders.csv").write_text("order_id\n", encoding="utf-8")
    with pytest.raises(ChannelAnalysisError, match="not empty"):
        write_prepared_source(validated.tables, busy)
    with pytest.raises(ValueError, match="required"):
        write_prepared_source({"orders": validated.tables["orders"]}, tmp_path / "x")
