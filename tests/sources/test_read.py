"""read_source: every kind of source gives the same raw tables; every unusable input one SourceError."""

from __future__ import annotations

import csv
import datetime as dt
import socket
import sqlite3
import tempfile
from pathlib import Path
from unittest import mock

import duckdb
import openpyxl
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channel_analysis.errors import SourceError
from channel_analysis.sources import files as io
from channel_analysis.sources.read import read_source

DEALERS_CSV = "dealer_id,dealer_name,region,signed_date\n00123,华东五金有限公司,华东,2024-03-01\nD7,NA,North,2025-11-15\n"
ORDERS_CSV = "order_id,dealer_id,order_date,amount\nO1,00123,2026-10-01,1200.50\nO2,D7,2026-10-15,-200\n"


def write(folder, name, text, encoding="utf-8"):
    (folder / name).write_bytes(text.encode(encoding))


def csv_folder(folder, dealers=DEALERS_CSV, orders=ORDERS_CSV):
    write(folder, "dealers.csv", dealers)
    write(folder, "orders.csv", orders)
    return folder


def problems(spec, **kwargs) -> list[str]:
    with pytest.raises(SourceError) as info:
        read_source(spec, **kwargs)
    assert info.value.exit_status == 2
    return info.value.problems


def fill(sheet, values) -> None:
    for row in values:
        sheet.append(row)


def rows(frame: pd.DataFrame) -> dict:
    """{source_row: [values]}: the frame's content at a glance."""
    return {i: list(r) for i, r in zip(frame.index, frame.itertuples(index=False))}


# --- CSV ----------------------------------------------------------------------------


def test_csv_folder_reads_every_cell_as_text(tmp_path):
    source = read_source(csv_folder(tmp_path))

    assert source.location == str(tmp_path)
    assert list(source.tables) == ["dealers", "orders"]
    dealers = source.tables["dealers"]
    assert (dealers.name, dealers.origin, dealers.encoding) == ("dealers", "dealers.csv", "utf-8")
    assert dealers.frame.index.name == "source_row"
    assert rows(dealers.frame) == {
        1: ["00123", "华东五金有限公司", "华东", "2024-03-01"],
        2: ["D7", "NA", "North", "2025-11-15"],
    }
    assert all(dtype == "str" for dtype in dealers.frame.dtypes)
    assert dealers.malformed.empty and dealers.malformed.index.name == "source_row"
    assert rows(source.tables["orders"].frame)[2] == ["O2", "D7", "2026-10-15", "-200"]


def test_csv_values_are_not_converted_or_trimmed(tmp_path):
    write(tmp_path, "orders.csv", 'order_id,dealer_id,amount,note\n00123,NA,  5 ,null\n"007",,1e3,N/A\n')
    write(tmp_path, "dealers.csv", "dealer_id\n")

    frame = read_source(tmp_path).tables["orders"].frame

    assert rows(frame) == {1: ["00123", "NA", "  5 ", "null"], 2: ["007", "", "1e3", "N/A"]}


def test_file_names_and_headers_match_ignoring_case_and_spaces(tmp_path):
    write(tmp_path, "Orders.CSV", " Order_ID ,DEALER_ID,Order Date\nO1,D1,2026-10-01\n")
    write(tmp_path, "DEALERS.csv", "Dealer_ID\nD1\n")
    write(tmp_path, "notes.txt", "ignored")

    source = read_source(tmp_path)

    assert list(source.tables["orders"].frame.columns) == ["order_id", "dealer_id", "order date"]
    assert source.tables["orders"].origin == "Orders.CSV"


@pytest.mark.parametrize(
    ("encoding", "recorded"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")]
)
def test_encoding_is_detected_and_recorded(tmp_path, encoding, recorded):
    write(tmp_path, "dealers.csv", DEALERS_CSV, encoding)
    write(tmp_path, "orders.csv", ORDERS_CSV, encoding)

    dealers = read_source(tmp_path).tables["dealers"]

    assert dealers.encoding == recorded
    assert list(dealers.frame.columns) == ["dealer_id", "dealer_name", "region", "signed_date"]  # no BOM in the name
    assert dealers.frame.loc[1, "dealer_name"] == "华东五金有限公司"


def test_undecodable_csv_names_the_file(tmp_path):
    csv_folder(tmp_path)
    (tmp_path / "orders.csv").write_bytes(b"order_id,dealer_id\nO1,D1\nO2,Caf\xe9\n")  # Latin-1 "é" at line end

    [problem] = problems(tmp_path)

    assert problem.startswith("orders.csv is neither UTF-8 nor GB18030; save it as UTF-8 CSV")
    assert "line 3" in problem


def test_empty_file_has_no_header_row(tmp_path):
    csv_folder(tmp_path)
    (tmp_path / "orders.csv").write_bytes(b"")

    [problem] = problems(tmp_path)

    assert "orders.csv has no header row" in problem


def test_header_only_file_is_an_empty_table(tmp_path):
    csv_folder(tmp_path, orders="order_id,dealer_id,order_date,amount\n")

    orders = read_source(tmp_path).tables["orders"]

    assert orders.frame.empty
    assert list(orders.frame.columns) == ["order_id", "dealer_id", "order_date", "amount"]


def test_rows_that_do_not_fit_the_header_are_set_aside(tmp_path):
    csv_folder(tmp_path, orders="order_id,dealer_id,amount\nO1,D1,10\nO2,D1,1,000\nO3,D2\nO4,D2,40\n")

    orders = read_source(tmp_path).tables["orders"]

    assert rows(orders.frame) == {1: ["O1", "D1", "10"], 4: ["O4", "D2", "40"]}
    assert rows(orders.malformed) == {
        2: ["O2,D1,1,000", "row has 4 fields, the header has 3"],
        3: ["O3,D2", "row has 2 fields, the header has 3"],
    }


def test_malformed_rows_in_a_long_file(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "_BATCH", 2)  # several Arrow batches on the row-by-row path
    body = "".join(f"O{i},D1,{i}\n" for i in range(1, 8))
    csv_folder(tmp_path, orders="order_id,dealer_id,amount\n" + body + "O8,D1,8,extra\nO9,D1,9\n")

    orders = read_source(tmp_path).tables["orders"]

    assert list(orders.frame.index) == [1, 2, 3, 4, 5, 6, 7, 9]
    assert orders.frame.loc[9].tolist() == ["O9", "D1", "9"]
    assert list(orders.malformed.index) == [8]


def test_quoted_fields_keep_commas_and_newlines(tmp_path):
    csv_folder(tmp_path, dealers='dealer_id,dealer_name\nD1,"Smith, Jones\nand Co"\nD2,"say ""hi"""\n')

    dealers = read_source(tmp_path).tables["dealers"]

    assert rows(dealers.frame) == {1: ["D1", "Smith, Jones\nand Co"], 2: ["D2", 'say "hi"']}


def test_quoted_newline_and_malformed_row_numbered_by_record(tmp_path):
    csv_folder(tmp_path, dealers='dealer_id,dealer_name\nD1,"two\nlines"\nD2,x,y\nD3,z\n')

    dealers = read_source(tmp_path).tables["dealers"]

    assert rows(dealers.frame) == {1: ["D1", "two\nlines"], 3: ["D3", "z"]}
    assert rows(dealers.malformed) == {2: ["D2,x,y", "row has 3 fields, the header has 2"]}


def test_trailing_empty_lines_are_ignored(tmp_path):
    csv_folder(tmp_path, orders="order_id,dealer_id\nO1,D1\n,\nO2,D1\n,\n\n,\n\n")

    frame = read_source(tmp_path).tables["orders"].frame

    assert rows(frame) == {1: ["O1", "D1"], 2: ["", ""], 3: ["O2", "D1"]}  # an empty row inside stays


def test_duplicate_column_names_after_normalising(tmp_path):
    csv_folder(tmp_path, orders="order_id,Amount, amount \nO1,1,2\n")

    [problem] = problems(tmp_path)

    assert "orders.csv has duplicate column names" in problem
    assert "amount in columns 2, 3" in problem


cells = st.text(alphabet=list('ab ,"\n\r0N华'), max_size=4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(cells, min_size=3, max_size=3), max_size=6))
def test_fast_and_row_by_row_readers_agree(records):
    header = ["order_id", "dealer_id", "note"]
    with tempfile.TemporaryDirectory() as folder:
        with open(Path(folder) / "orders.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *records])  # quotes every field holding , " \r or \n
        write(Path(folder), "dealers.csv", "dealer_id\n")
        assert io._csv_fast(Path(folder) / "orders.csv", "utf-8", header) is not None
        fast = read_source(folder).tables["orders"]
        with mock.patch.object(io, "_csv_fast", return_value=None):
            by_row = read_source(folder).tables["orders"]

    assert fast.malformed.empty and by_row.malformed.empty
    pd.testing.assert_frame_equal(fast.frame, by_row.frame)


# --- table-level problems -----------------------------------------------------------


def test_source_that_does_not_exist(tmp_path):
    [problem] = problems(tmp_path / "nowhere")

    assert f"data source {tmp_path / 'nowhere'} does not exist" in problem


def test_missing_required_table_lists_files_found(tmp_path):
    write(tmp_path, "dealers.csv", DEALERS_CSV)
    write(tmp_path, "order.csv", ORDERS_CSV)

    [problem] = problems(tmp_path)

    assert problem.startswith(f"required table orders is missing in {tmp_path}")
    assert "orders.csv, orders.parquet, orders.xlsx, a folder orders/ of Parquet files or a sheet named orders in dealer_data.xlsx" in problem
    assert "found files: dealers.csv, order.csv" in problem


def test_optional_tables_may_be_missing(tmp_path):
    assert "events" not in read_source(csv_folder(tmp_path)).tables


def test_two_files_for_one_table(tmp_path):
    csv_folder(tmp_path)
    pq.write_table(pa.table({"order_id": ["O1"]}), tmp_path / "orders.parquet")

    [problem] = problems(tmp_path)

    assert "table orders is given twice" in problem
    assert "orders.csv and orders.parquet" in problem


def test_file_and_sheet_for_one_table(tmp_path):
    csv_folder(tmp_path)
    book = openpyxl.Workbook()
    book.active.title = "Orders"
    book.save(tmp_path / "dealer_data.xlsx")

    [problem] = problems(tmp_path)

    assert "dealer_data.xlsx, sheet Orders and orders.csv" in problem


def test_all_problems_are_reported_together(tmp_path):
    (tmp_path / "dealers.csv").write_bytes(b"dealer_id\n\xff\xfe\n")
    write(tmp_path, "interactions.csv", "interaction_id,Interaction_ID\nI1,1\n")
    (tmp_path / "events.csv").write_bytes(b"")
    write(tmp_path, "expenses.xlsx", "not a workbook")

    found = problems(tmp_path)

    assert len(found) == 5
    assert found[0].startswith("dealers.csv is neither UTF-8 nor GB18030")
    assert found[1].startswith("required table orders is missing")
    assert found[2].startswith("interactions.csv has duplicate column names")
    assert found[3].startswith("expenses.xlsx is not a valid Excel workbook")
    assert found[4].startswith("events.csv has no header row")


def test_only_the_tables_asked_for(tmp_path):
    csv_folder(tmp_path)
    (tmp_path / "events.csv").write_bytes(b"")  # broken, but not asked for

    assert list(read_source(tmp_path, tables=["dealers"]).tables) == ["dealers"]


# --- Parquet and Excel --------------------------------------------------------------


def test_parquet_keeps_native_types_and_dates_become_datetimes(tmp_path):
    csv_folder(tmp_path)
    (tmp_path / "orders.csv").unlink()
    orders = pa.table({
        "Order_ID": ["00123", "O2"],
        "order_date": pa.array([dt.date(2026, 10, 1), None], pa.date32()),
        "amount": [1200.5, -200.0],
        "quantity": pa.array([3, None], pa.int64()),
    })
    pq.write_table(orders, tmp_path / "orders.parquet")

    frame = read_source(tmp_path).tables["orders"].frame

    assert list(frame.columns) == ["order_id", "order_date", "amount", "quantity"]
    assert frame["order_date"].dtype.kind == "M"
    assert frame.loc[1, "order_date"] == pd.Timestamp("2026-10-01")
    assert pd.isna(frame.loc[2, "order_date"])
    assert frame["order_id"].tolist() == ["00123", "O2"]
    assert frame["amount"].tolist() == [1200.5, -200.0]
    assert list(frame.index) == [1, 2]


def test_one_workbook_per_table_first_sheet(tmp_path):
    write(tmp_path, "dealers.csv", DEALERS_CSV)
    book = openpyxl.Workbook()
    book.active.title = "whatever"
    fill(book.active, [
        ["Order_ID ", "dealer_id", "order_date", "amount"],
        ["O1", "00123", dt.date(2026, 10, 1), 1200.5],
        ["O2", 7, dt.datetime(2026, 10, 15, 14, 5), None, None, "stray"],
        [],
        ["O3", "D7", dt.date(2026, 10, 20), -5],
        [None, None, None, None],
    ])
    fill(book.create_sheet("second"), [["ignored"]])
    book.save(tmp_path / "orders.xlsx")

    orders = read_source(tmp_path).tables["orders"]

    assert orders.origin == "orders.xlsx"
    assert orders.encoding is None
    assert rows(orders.frame) == {
        1: ["O1", "00123", pd.Timestamp("2026-10-01"), 1200.5],
        3: ["O3", "D7", pd.Timestamp("2026-10-20"), -5.0],
    }
    assert orders.frame["order_date"].dtype.kind == "M"
    assert rows(orders.malformed) == {
        2: ["O2,7,2026-10-15 14:05:00,,,stray", "row has a value in column F, beyond the header's 4 columns"]
    }


def test_one_workbook_with_a_sheet_per_table(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "README"
    fill(book.create_sheet("Dealers"), [["dealer_id", "dealer_name"], ["00123", "华东五金"], ["D7", None]])
    fill(book.create_sheet(" orders"), [["order_id", "dealer_id"]])
    book.save(tmp_path / "Dealer_Data.xlsx")

    source = read_source(tmp_path)

    assert list(source.tables) == ["dealers", "orders"]
    dealers = source.tables["dealers"]
    assert dealers.origin == "Dealer_Data.xlsx, sheet Dealers"
    assert dealers.frame.loc[1].tolist() == ["00123", "华东五金"]
    assert pd.isna(dealers.frame.loc[2, "dealer_name"])
    assert source.tables["orders"].frame.empty


def test_invalid_workbook(tmp_path):
    write(tmp_path, "dealers.csv", DEALERS_CSV)
    write(tmp_path, "dealer_data.xlsx", "order_id\nO1\n")

    [problem] = problems(tmp_path)  # the orders it may hold are not called missing

    assert problem.startswith("dealer_data.xlsx is not a valid Excel workbook")


# --- databases ----------------------------------------------------------------------


def expected_dealers() -> dict:
    return {
        1: ["00123", "华东五金有限公司", "华东", pd.Timestamp("2024-03-01")],
        2: ["D7", "NA", "North", pd.Timestamp("2025-11-15")],
    }


@pytest.mark.parametrize("name", ["shop.duckdb", "shop.db"])
def test_duckdb_file(tmp_path, name):
    with duckdb.connect(str(tmp_path / name)) as con:
        con.execute('CREATE TABLE "Dealers" (dealer_id TEXT, dealer_name TEXT, "Region " TEXT, signed_date DATE)')
        con.execute(
            "INSERT INTO Dealers VALUES ('00123', '华东五金有限公司', '华东', '2024-03-01'), ('D7', 'NA', 'North', '2025-11-15')"
        )
        con.execute("CREATE TABLE orders_raw (order_id VARCHAR, amount DECIMAL(10, 2))")
        con.execute("INSERT INTO orders_raw VALUES ('O1', 1200.50)")
        con.execute("CREATE VIEW orders AS SELECT * FROM orders_raw")

    source = read_source(tmp_path / name)

    assert source.location == str(tmp_path / name)
    assert source.tables["dealers"].origin == "table Dealers"
    assert list(source.tables["dealers"].frame.columns) == ["dealer_id", "dealer_name", "region", "signed_date"]
    assert rows(source.tables["dealers"].frame) == expected_dealers()
    assert rows(source.tables["orders"].frame) == {1: ["O1", 1200.5]}


def make_sqlite(path):
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE dealers (dealer_id TEXT, dealer_name TEXT, region TEXT, signed_date TEXT)")
        con.executemany(
            "INSERT INTO dealers VALUES (?, ?, ?, ?)",
            [("00123", "华东五金有限公司", "华东", "2024-03-01"), ("D7", "NA", "North", "2025-11-15")],
        )
        con.execute('CREATE TABLE "ORDERS" (order_id TEXT, dealer_id, amount REAL)')
        con.executemany("INSERT INTO ORDERS VALUES (?, ?, ?)", [("O1", "00123", 1200.5), ("O2", 7, None)])
    con.close()


@pytest.mark.parametrize("name", ["shop.sqlite", "shop.sqlite3", "shop.db"])
def test_sqlite_file(tmp_path, name):
    make_sqlite(tmp_path / name)

    source = read_source(tmp_path / name)

    assert source.tables["dealers"].frame.loc[1].tolist() == ["00123", "华东五金有限公司", "华东", "2024-03-01"]
    orders = source.tables["orders"].frame
    assert orders["dealer_id"].tolist() == ["00123", "7"]  # numbers and text in one column: read as text
    assert orders.loc[1, "amount"] == 1200.5 and pd.isna(orders.loc[2, "amount"])


def test_sqlalchemy_sqlite_url(tmp_path):
    make_sqlite(tmp_path / "shop.sqlite")

    source = read_source(f"sqlite:///{tmp_path / 'shop.sqlite'}")

    assert list(source.tables) == ["dealers", "orders"]
    assert source.tables["orders"].origin == "table ORDERS"


def test_sqlite_url_to_a_missing_file_creates_nothing(tmp_path):
    [problem] = problems(f"sqlite:///{tmp_path / 'nope.sqlite'}")

    assert "does not exist" in problem
    assert not (tmp_path / "nope.sqlite").exists()


def test_database_without_the_required_tables(tmp_path):
    with sqlite3.connect(tmp_path / "x.sqlite") as con:
        con.execute("CREATE TABLE dealer (id TEXT)")
    con.close()

    found = problems(tmp_path / "x.sqlite")

    where = tmp_path / "x.sqlite"
    assert found == [
        f"required table dealers is missing in {where}: expected a table or view named dealers; found tables: dealer",
        f"required table orders is missing in {where}: expected a table or view named orders; found tables: dealer",
    ]


def test_file_that_is_no_database(tmp_path):
    write(tmp_path, "shop.db", "hello")

    [problem] = problems(tmp_path / "shop.db")

    assert "is neither a folder nor a DuckDB or SQLite database file" in problem


# --- PostgreSQL (a real server, started by the pg_server fixture) ---------------------


@pytest.fixture
def pg_shop(pg_server, pg_url, monkeypatch, tmp_path):
    """The same dealers and orders as CSV files (returned folder) and as PostgreSQL tables."""
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    dealers = """dealer_id,dealer_name,Region,signed_date
00123,华东五金有限公司,华东,2024-03-01
D7,"Smith, Jones",North,2025-11-15
"""
    orders = """order_id,dealer_id,order_date,amount,quantity
O1,00123,2026-10-01,1200.50,3
O2,00123,2026-10-15,-200.00,
O3,D7,2026-10-20,99.90,1
"""
    csv_folder(tmp_path, dealers, orders)
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute('DROP TABLE IF EXISTS "Dealers", orders')
        con.execute('CREATE TABLE "Dealers" (dealer_id text, dealer_name text, "Region" text, signed_date date)')
        con.execute(
            """INSERT INTO "Dealers" VALUES ('00123', '华东五金有限公司', '华东', '2024-03-01'),
                                            ('D7', 'Smith, Jones', 'North', '2025-11-15')"""
        )
        con.execute(
            "CREATE TABLE orders (order_id text, dealer_id text, order_date date, amount numeric(12, 2), quantity int)"
        )
        con.execute(
            """INSERT INTO orders VALUES ('O1', '00123', '2026-10-01', 1200.50, 3),
                                         ('O2', '00123', '2026-10-15', -200.00, NULL),
                                         ('O3', 'D7', '2026-10-20', 99.90, 1)"""
        )
    return tmp_path


@pytest.mark.postgres
def test_postgresql_gives_the_same_tables_as_csv(pg_shop, pg_url):
    from_csv = read_source(pg_shop).tables
    from_pg = read_source(pg_url)

    assert from_pg.location == pg_url
    assert from_pg.tables["dealers"].origin == "table Dealers"
    dealers = from_csv["dealers"].frame.assign(signed_date=lambda f: pd.to_datetime(f["signed_date"]))
    pd.testing.assert_frame_equal(from_pg.tables["dealers"].frame, dealers, check_dtype=False)
    orders = from_csv["orders"].frame.assign(
        order_date=lambda f: pd.to_datetime(f["order_date"]),
        amount=lambda f: pd.to_numeric(f["amount"]),
        quantity=lambda f: pd.to_numeric(f["quantity"]).astype(float),
    )
    pd.testing.assert_frame_equal(from_pg.tables["orders"].frame, orders, check_dtype=False)


@pytest.mark.postgres
def test_postgresql_password_from_channel_analysis_env(pg_server, pg_shop, pg_url, monkeypatch):
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("CHANNEL_ANALYSIS_DB_PASSWORD", pg_server.password)

    assert list(read_source(pg_url).tables) == ["dealers", "orders"]


@pytest.mark.postgres
def test_postgresql_wrong_password(pg_url, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "wrong-Secret-42")

    [problem] = problems(pg_url)

    assert problem.startswith(f"cannot connect to the database {pg_url}")
    assert "password authentication failed" in problem
    assert "wrong-Secret-42" not in problem


@pytest.mark.postgres
def test_postgresql_password_in_url_is_hidden(pg_server, pg_shop, pg_url):
    url = pg_url.replace("testrole@", f"testrole:{pg_server.password}@")

    source = read_source(url)

    assert pg_server.password not in source.location
    assert source.location == pg_url.replace("testrole@", "testrole:***@")


def test_database_that_cannot_be_reached(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    [problem] = problems(f"postgresql://testrole:Hush-9876@127.0.0.1:{port}/testdb")

    assert problem.startswith(f"cannot connect to the database postgresql://testrole:***@127.0.0.1:{port}/testdb")
    assert "Hush-9876" not in problem
