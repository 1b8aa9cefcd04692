"""Fuzzing the file readers: malformed CSV, Parquet and Excel files fed to read + validate.

Whatever a file holds, reading and validating it ends in one of two ways: the source
is used (rows that do not fit are quarantined, and rows read = accepted + quarantined
for every table), or a :class:`SourceError` whose message names the file. Any other
exception is a bug. Examples that once found one are pinned with ``@example``.

The example counts are small so that CI stays quick; to search longer, set
``FUZZ_EXAMPLES`` (e.g. ``FUZZ_EXAMPLES=3000``) when running this module.
"""

from __future__ import annotations

import codecs
import io as _io
import os
import re
import tempfile
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.errors import SourceError
from channel_analysis.sources.read import read_source
from channel_analysis.sources.tables import WORKBOOK
from channel_analysis.validate.memory import validate_source
from helpers.mini_source import BASE

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(
    max_examples=EXAMPLES or 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(FUZZ, max_examples=EXAMPLES or 25)  # the slower strategies (workbooks)

TABLES = ("dealers", "orders", "interactions", "event_attendance")  # the fuzzed file is one of these


def outcome(files: dict[str, bytes], named: str):
    """Write ``files`` (name → bytes) beside a valid rest of the source; read and validate.

    → the validated source, or the SourceError raised (its message names ``named``); any
    other exception propagates (a bug)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stems = {name.rsplit(".", 1)[0].lower() for name in files}
        for table, text in BASE.items():
            if table not in stems and not (WORKBOOK in files and table in ("dealers", "orders")):
                (folder / f"{table}.csv").write_text(text, encoding="utf-8")
        for name, data in files.items():
            (folder / name).write_bytes(data)
        try:
            validated = validate_source(read_source(folder))
        except SourceError as exc:
            message = str(exc)
            assert named in message, message
            assert exc.problems and all(p.strip() for p in exc.problems)
            return exc
    for table, read in validated.rows_read.items():
        assert read == len(validated.tables[table]) + len(validated.quarantine[table]), table
        assert (validated.quarantine[table]["reason"].str.len() > 0).all(), table
    return validated


# --------------------------------------------------------------------------- CSV

# Pieces a CSV line is made of: plain values, quoting gone wrong, control characters,
# other encodings' bytes, and a field far larger than Python's csv module accepts.
FIELDS = st.one_of(
    st.sampled_from(["D001", "O1", "2024-01-20", "1200000", "phone", "outbound", "", " ", "NA", "山东", "00123"]),
    st.sampled_from(['"', '""', '"a"b', 'a"b', '"open', '"x\ny"', '"x\r\ny"', "\x00", "a\x00b", "\r", "\t", ";",
                     "\ufeff", "=1+1", "1e400", "-0", "\u2028", "\x1a", "é"]),
    st.text(max_size=12),
    st.integers(1, 300_000).map(lambda n: "x" * n),
)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\r\n"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "latin-1", "utf-16", "utf-32", "cp1252", "big5"])


def _encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace") if encoding != "utf-8-sig" else codecs.BOM_UTF8 + text.encode()


@st.composite
def csv_texts(draw, table: str) -> bytes:
    """A CSV file of ``table`` that is nearly right: its header (perhaps changed), then rows
    of random pieces with random line ends, in one encoding or in two."""
    columns = list(schema.columns_of(table))
    header = draw(st.sampled_from([
        columns,
        [c.upper() for c in columns],
        [f" {c} " for c in columns],
        columns + ["extra"],
        columns[:-1],
        columns + [columns[0]],  # a column given twice
        columns + [""],
        [],
    ]))
    lines = [",".join(header)] if header or draw(st.booleans()) else []
    width = max(len(columns), 1)
    for _ in range(draw(st.integers(0, 8))):
        n = draw(st.one_of(st.just(width), st.integers(0, width + 2)))
        lines.append(",".join(draw(st.lists(FIELDS, min_size=n, max_size=n))))
    text = "".join(line + draw(LINE_ENDS) for line in lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no newline at the end
    first = draw(ENCODINGS)
    if draw(st.integers(0, 3)) == 0:  # two encodings in one file
        cut = draw(st.integers(0, len(text)))
        return _encoded(text[:cut], first) + text[cut:].encode(draw(ENCODINGS), errors="replace")
    return _encoded(text, first)


def _mangled(data: bytes, draw) -> bytes:
    """``data`` with a few bytes inserted, deleted or overwritten, or cut short."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        what = draw(st.sampled_from(["insert", "delete", "overwrite", "truncate"]))
        piece = draw(st.binary(min_size=1, max_size=8))
        if what == "insert":
            data[at:at] = piece
        elif what == "delete":
            del data[at : at + len(piece)]
        elif what == "overwrite":
            data[at : at + len(piece)] = piece
        else:
            del data[at:]
    return bytes(data)


@st.composite
def csv_files(draw) -> tuple[str, bytes]:
    table = draw(st.sampled_from(TABLES))
    kind = draw(st.sampled_from(["random", "nearly", "mangled"]))
    if kind == "random":
        data = draw(st.binary(max_size=600))
    elif kind == "nearly":
        data = draw(csv_texts(table))
    else:
        data = _mangled(BASE[table].encode(draw(st.sampled_from(["utf-8", "gb18030"]))), draw)
    return f"{table}.csv", data


@FUZZ
@given(csv_files())
@example(("orders.csv", BASE["orders"].replace(",1,crane", ",1e20,crane", 1).encode()))  # quantity beyond int64
@example(("orders.csv", b""))
@example(("orders.csv", b"\xef\xbb\xbf"))  # a BOM and nothing else
@example(("orders.csv", b"\n\n\r\n"))
@example(("dealers.csv", BASE["dealers"].encode().replace(b"\n", b"\r")))  # old Mac line ends
@example(("orders.csv", BASE["orders"].split("\n", 1)[1].encode()))  # no header: the first row is taken as one
@example(("orders.csv", b"order_id,dealer_id,order_date,amount\nO1,D001,2024-01-20,\"" + b"9" * 200_000 + b"\"\n"))
def test_a_malformed_csv_is_used_or_named(file):
    name, data = file
    outcome({name: data}, name)


def test_an_integer_too_large_for_the_engine_is_quarantined(tmp_path):
    # 1e20 is whole but no 64-bit integer: it used to raise a TypeError while typing the column
    files = {name: text.encode() for name, text in BASE.items()}
    files["orders"] = BASE["orders"].replace(",1,crane", ",1e20,crane", 1).encode()
    validated = outcome({f"{t}.csv": data for t, data in files.items()}, "orders.csv")
    bad = validated.quarantine["orders"]
    assert list(bad.index) == [1]
    assert bad.loc[1, "reason"] == "quantity '1e20' is not a whole number (of at most 18 digits)"


# --------------------------------------------------------------------------- Parquet

PARQUET_COLUMNS = st.sampled_from([
    pa.array(["D001", None, "D002"]),
    pa.array([1, 2, 2**62]),
    pa.array([1.5, float("nan"), float("inf")]),
    pa.array([True, False, None]),
    pa.array([date(2024, 1, 1), date(1, 1, 1), date(9999, 12, 31)]),
    pa.array([datetime(2024, 1, 1), None, datetime(1677, 1, 1)], pa.timestamp("us")),
    pa.array([datetime(2024, 1, 1), None, datetime(2024, 2, 1)], pa.timestamp("ms", tz="Asia/Shanghai")),
    pa.array([timedelta(days=1), None, timedelta(0)], pa.duration("us")),
    pa.array([time(1, 2), None, time(23, 59)], pa.time64("us")),
    pa.array([b"\x00\xff", b"", None], pa.binary()),
    pa.array([[1, 2], [], None], pa.list_(pa.int64())),
    pa.array([{"a": 1}, None, {"a": 2}], pa.struct([("a", pa.int64())])),
    pa.array(["x", "y", "x"]).dictionary_encode(),
    pa.array([None, None, None], pa.null()),
    pa.array([1, 2, 3], pa.decimal128(38, 0)),
    pa.array([10**38 - 1, 0, -1], pa.decimal128(38, 0)),
    pa.array([2**64 - 1, 0, 1], pa.uint64()),
    pa.array(["D001", "D001", "\x00"], pa.large_string()),
])


@st.composite
def parquet_files(draw) -> tuple[str, bytes]:
    table = draw(st.sampled_from(TABLES))
    names = list(schema.columns_of(table))
    names = draw(st.lists(st.sampled_from(names + ["", "Extra", names[0].upper()]), min_size=1, max_size=len(names) + 2))
    data = pa.table({f"c{i}": draw(PARQUET_COLUMNS) for i in range(len(names))}).rename_columns(names)
    buffer = _io.BytesIO()
    pq.write_table(data, buffer)
    raw = buffer.getvalue()
    if draw(st.integers(0, 3)) == 0:
        raw = _mangled(raw, draw)
    return f"{table}.parquet", raw


@FUZZ
@given(parquet_files())
@example(("orders.parquet", b"PAR1"))
@example(("orders.parquet", b"not parquet at all"))
def test_a_malformed_parquet_file_is_used_or_named(file):
    name, data = file
    outcome({name: data}, name)


# --------------------------------------------------------------------------- Excel

CELLS = st.one_of(
    st.none(),
    st.sampled_from(["D001", "O1", "2024-01-20", "phone", "outbound", "00123", " D002 ", "山东", "=1+1", "=1/0",
                     "=A1", "=SUM(A1:A3)", "#N/A", "#DIV/0!", "TRUE", "1e20", "", "  "]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=10),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(date(1900, 3, 1), date(9999, 12, 31)),
    st.datetimes(datetime(1900, 3, 1), datetime(9999, 12, 31)),
    st.times(),
    st.just("x" * 32_767),  # the longest text a cell holds
)


def _sheet(ws, header: list, rows: list[list], draw) -> None:
    ws.append(header)
    for row in rows:
        ws.append(row)
    if rows and draw(st.booleans()):  # merged cells over part of the data
        top = draw(st.integers(2, len(rows) + 1))
        left = draw(st.integers(1, max(1, len(header))))
        ws.merge_cells(start_row=top, start_column=left, end_row=top + draw(st.integers(0, 2)),
                       end_column=left + draw(st.integers(0, 2)))
    if draw(st.integers(0, 5)) == 0:  # very wide: a value far beyond the header
        ws.cell(row=draw(st.integers(1, len(rows) + 2)), column=draw(st.integers(200, 16_384)), value="far")


@st.composite
def sheet_contents(draw, table: str) -> tuple[list, list[list]]:
    columns = list(schema.columns_of(table))
    header = draw(st.sampled_from([
        columns,
        [c.title() for c in columns],
        columns + [None, "extra"],
        [None] + columns,
        columns + [1, "1"],
        [datetime(2024, 1, 1)] + columns[1:],
        columns[:1],
        [],
    ]))
    width = max(len(header), 1)
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=width + 2), max_size=6))
    return header, rows


def _workbook_bytes(book: openpyxl.Workbook) -> bytes:
    """The saved workbook without the clock in it (zip member times, docProps/core.xml), so that
    hypothesis sees the same bytes when it draws the same example again."""
    saved = _io.BytesIO()
    book.save(saved)
    out = _io.BytesIO()
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2000-01-01T00:00:00Z", data)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


@st.composite
def xlsx_files(draw) -> tuple[str, bytes]:
    """One workbook per table (first sheet read), built at random or broken afterwards."""
    table = draw(st.sampled_from(TABLES))
    kind = draw(st.sampled_from(["random bytes", "zip of other things", "workbook", "broken workbook"]))
    if kind == "random bytes":
        return f"{table}.xlsx", draw(st.binary(max_size=300))
    if kind == "zip of other things":
        buffer = _io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for name in draw(st.lists(st.sampled_from(
                ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "_rels/.rels", "a.txt"]
            ), max_size=4, unique=True)):
                z.writestr(name, draw(st.binary(max_size=60)))
        return f"{table}.xlsx", buffer.getvalue()
    book = openpyxl.Workbook()
    if draw(st.integers(0, 5)) == 0:
        book.remove(book.active)  # no worksheet at all
        book.create_chartsheet("chart")
    else:
        header, rows = draw(sheet_contents(table))
        _sheet(book.active, header, rows, draw)
    data = _workbook_bytes(book)
    return f"{table}.xlsx", _mangled(data, draw) if kind == "broken workbook" else data


SHEET_NAMES = st.sampled_from(["dealers", "orders", "Orders", " orders", "ORDERS ", "dealers (2)", "Sheet1",
                               "interactions", "订单", "events", "x" * 31])


@st.composite
def dealer_data_books(draw) -> tuple[str, bytes]:
    """dealer_data.xlsx: a sheet per table, under odd names, some given twice."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    titles = draw(st.lists(SHEET_NAMES, max_size=5, unique=True))
    for title in titles:
        ws = book.create_sheet(title)
        table = title.strip().lower()
        if table in BASE and draw(st.booleans()):
            header, *rows = [line.split(",") for line in BASE[table].strip().split("\n")]
            _sheet(ws, header, rows, draw)
        else:
            header, rows = draw(sheet_contents(table if table in schema.TABLES else "orders"))
            _sheet(ws, header, rows, draw)
        if len(book.worksheets) > 1 and draw(st.integers(0, 4)) == 0:
            ws.sheet_state = "hidden"  # (a workbook needs one visible sheet)
    if not titles:
        book.create_sheet("Sheet1")
    data = _workbook_bytes(book)
    return WORKBOOK, _mangled(data, draw) if draw(st.integers(0, 4)) == 0 else data


@FEW
@given(xlsx_files())
@example(("orders.xlsx", b"PK\x03\x04"))
@example(("orders.xlsx", b""))
def test_a_malformed_workbook_is_used_or_named(file):
    name, data = file
    outcome({name: data}, name)


@FEW
@given(dealer_data_books())
def test_a_malformed_dealer_data_workbook_is_used_or_named(file):
    name, data = file
    outcome({name: data}, name)


def test_a_sheet_given_twice_under_two_spellings_is_named(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "orders"
    book.create_sheet("Orders ")
    dealers = book.create_sheet("dealers")
    for line in BASE["dealers"].strip().split("\n"):
        dealers.append(line.split(","))
    error = outcome({WORKBOOK: _workbook_bytes(book)}, WORKBOOK)
    assert isinstance(error, SourceError)
    [problem] = error.problems
    assert problem.startswith("table orders is given twice in ")
    assert problem.endswith(": dealer_data.xlsx, sheet orders and dealer_data.xlsx, sheet Orders ; keep only one")


def test_formulas_without_a_cached_value_are_empty_cells(tmp_path):
    # a workbook written by a program (not Excel) stores formulas with no computed value:
    # the reader sees an empty cell, which validation quarantines as such
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["order_id", "dealer_id", "order_date", "amount"])
    ws.append(["O1", "D001", datetime(2024, 1, 20), "=2*600000"])
    validated = outcome({"orders.xlsx": _workbook_bytes(book)}, "orders.xlsx")
    assert validated.quarantine["orders"].loc[1, "reason"] == "amount is empty"


def test_a_stray_cell_far_right_of_the_header_gives_a_short_message():
    # the empty header cells up to the stray one are duplicate (empty) names: the message used
    # to list every one of their column numbers
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["order_id", "dealer_id", "order_date", "amount"])
    ws.append(["O1", "D001", "2024-01-20", 5])
    ws.cell(row=1, column=5000, value="note")
    error = outcome({"orders.xlsx": _workbook_bytes(book)}, "orders.xlsx")
    assert isinstance(error, SourceError)
    assert error.problems == [
        "orders.xlsx has duplicate column names (after trimming spaces and ignoring case): "
        "(empty) in columns 5, 6, 7, 8, 9 and 4,990 more; rename or delete the extra columns"
    ]


def test_excel_dates_outside_the_contract_years_are_quarantined_as_such():
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["order_id", "dealer_id", "order_date", "amount"])
    ws.append(["O1", "D001", -5, 5])  # serial -5 with a date format: 1899-12-25
    ws.append(["O2", "D001", 10**10, 5])  # beyond Excel's last date: openpyxl gives '#VALUE!'
    for cell in ("C2", "C3"):
        ws[cell].number_format = "yyyy-mm-dd"
    with pytest.warns(UserWarning, match="outside the limits for dates"):
        validated = outcome({"orders.xlsx": _workbook_bytes(book)}, "orders.xlsx")
    reasons = validated.quarantine["orders"]["reason"]
    assert reasons[1] == "order_date '1899-12-25 00:00:00' is not an ISO date (YYYY-MM-DD) from 1900 to 2100"
    assert reasons[2] == "order_date '#VALUE!' is not an ISO date (YYYY-MM-DD) from 1900 to 2100"
