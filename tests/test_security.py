"""Each threat of docs/security.md, attempted: the guard must hold, and each test fails without it.

Inputs are built inside the tests, small but shaped like the attack (a forged row
number, a line without end, a hostile table name ...), so the whole file runs in
seconds.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import duckdb
import nbformat
import openpyxl
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from channel_analysis.cli import main
from channel_analysis.errors import ChannelAnalysisError, ParameterError, SourceError
from channel_analysis.months import Month
from channel_analysis.run import publish
from channel_analysis.sources import excel, files
from channel_analysis.sources import tables as raw_tables
from channel_analysis.sources.read import read_source

DEALERS = "dealer_id,dealer_name,region,signed_date\nD1,Alpha,North,2024-01-01\n"
ORDERS = "order_id,dealer_id,order_date,amount\nO1,D1,2024-02-01,10.5\n"


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder`` (links not followed): file bytes, a link's target, or 'dir'."""
    out = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        out[key] = f"-> {p.readlink()}" if p.is_symlink() else "dir" if p.is_dir() else p.read_bytes()
    return out


def closed_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on: the connection is refused at once
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def source_problem(spec) -> str:
    with pytest.raises(SourceError) as info:
        read_source(spec)
    assert info.value.exit_status == 2
    return str(info.value)


@pytest.fixture(scope="module")
def world(demo_world) -> Path:
    return demo_world


# --- path traversal through --month --------------------------------------------------

BAD_MONTHS = [
    "../x", "2025-06/../../etc", "/etc/passwd", "2025-6", "2025-13", "2025-00", "202506",
    "2025-06\x00", "2025-06\n",
    "２０２５-０６", "２０２５-06", "٢٠٢٥-06",  # full-width and Arabic-Indic digits pass str.isdigit() and \d
]


@pytest.mark.parametrize("month", BAD_MONTHS)
def test_a_month_must_be_ascii_yyyy_mm_before_any_path_is_built(month, tmp_path, capsys):
    out = tmp_path / "reports"
    commands = [
        ["run", "--data", str(tmp_path), "--month", month, "--out", str(out)],
        ["demo-data", "--out", str(out), "--start", month],
    ]
    if month.strip() == month:  # --months allows spaces around "..": "2025-06\n..2025-12" is 2025-06 to 2025-12
        commands += [
            ["backtest", "--data", str(tmp_path), "--months", f"{month}..2025-12", "--out", str(out)],
            ["backtest", "--data", str(tmp_path), "--months", f"2025-01..{month}", "--out", str(out)],
        ]
    for argv in commands:
        assert main(argv) == 2, argv
        assert "is not a month" in capsys.readouterr().err, argv
        assert not out.exists(), argv  # not even the lock was taken
    with pytest.raises(ParameterError):
        Month.parse(month)


def test_publish_month_dir_refuses_non_ascii_digits(tmp_path):
    with pytest.raises(ParameterError):
        publish.month_dir(tmp_path, "２０２５-０６")


# --- path traversal and links through --out -------------------------------------------


def test_a_linked_month_folder_is_replaced_never_written_through(world, tmp_path, capsys):
    out, elsewhere = tmp_path / "reports", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "kpis.csv").write_text("someone else's file\n")
    out.mkdir()
    (out / "2025-12").symlink_to(elsewhere, target_is_directory=True)
    before = tree(elsewhere)

    assert main(["backtest", "--data", str(world), "--months", "2025-12..2025-12", "--out", str(out)]) == 0

    assert tree(elsewhere) == before
    month = out / "2025-12"
    assert month.is_dir() and not month.is_symlink()
    assert (month / "kpis.csv").read_text() != "someone else's file\n"


@pytest.mark.parametrize("entry", [".staging", ".failed", ".retired", ".2025-12.lock"])
@pytest.mark.parametrize("command", ["run", "backtest"])
def test_a_link_among_the_bookkeeping_entries_of_out_is_refused(entry, command, tmp_path, capsys):
    out, elsewhere = tmp_path / "reports", tmp_path / "elsewhere"
    planted = elsewhere / "2025-12-999999999"  # named like the staging folder of a dead run
    planted.mkdir(parents=True)
    (planted / "keep.txt").write_text("keep")
    out.mkdir()
    (out / entry).symlink_to(elsewhere)
    before = tree(elsewhere)
    month = ["--month", "2025-12"] if command == "run" else ["--months", "2025-12..2025-12"]

    assert main([command, "--data", str(tmp_path), *month, "--out", str(out)]) == 2

    assert "is a symbolic link" in capsys.readouterr().err
    assert tree(elsewhere) == before


@pytest.mark.parametrize("entry", [".staging", ".failed", ".retired"])
def test_publication_never_deletes_or_writes_through_a_bookkeeping_link(entry, tmp_path):
    out, elsewhere = tmp_path / "reports", tmp_path / "elsewhere"
    planted = elsewhere / "2025-12-999999999"
    planted.mkdir(parents=True)
    (planted / "keep.txt").write_text("keep")
    out.mkdir()
    (out / entry).symlink_to(elsewhere)
    before = tree(elsewhere)
    try:
        with publish.month_lock(out, "2025-12"):
            staging = publish.staging_dir(out, "2025-12")
            (staging / "kpis.csv").write_text("x\n")
            publish.keep_failed(staging, out, "2025-12")
    except ChannelAnalysisError:
        pass  # a clear refusal is a fine outcome
    assert tree(elsewhere) == before


def test_out_with_dot_dot_writes_nothing_outside_out(world, tmp_path):
    # ".." in --out is the user's own choice of folder; the guard is that nothing lands outside it
    (tmp_path / "a").mkdir()
    before = {k: v for k, v in tree(tmp_path).items() if not k.startswith("reports")}

    out = tmp_path / "a" / ".." / "reports"
    assert main(["backtest", "--data", str(world), "--months", "2025-11..2025-12", "--out", str(out)]) == 0
    assert main(["validate", "--data", str(world), "--out", str(out / "validate")]) == 0

    after = tree(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("reports")} == before
    assert {"reports/2025-11/kpis.csv", "reports/2025-12/alerts.csv", "reports/validate/data_quality.csv"} <= set(after)


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "reports").write_text("not a folder")
    for argv in (["backtest", "--data", str(tmp_path), "--months", "2025-12..2025-12"],
                 ["run", "--data", str(tmp_path), "--month", "2025-12"],
                 ["validate", "--data", str(tmp_path)]):
        assert main([*argv, "--out", str(tmp_path / "reports")]) == 2
        assert "is a file" in capsys.readouterr().err
    assert (tmp_path / "reports").read_text() == "not a folder"


# --- path traversal through table, sheet and file names -------------------------------


def test_hostile_sheet_names_are_not_read_and_name_no_file(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    book = openpyxl.Workbook()
    book.active.title = "dealers"
    for row in ([c for c in DEALERS.splitlines()[0].split(",")], ["D1", "Alpha", "North", "2024-01-01"]):
        book.active.append(row)
    orders = book.create_sheet("orders")
    for row in (["order_id", "dealer_id", "order_date", "amount"], ["O1", "D1", "2024-02-01", "oops"]):
        orders.append(row)  # a bad amount: this row is quarantined, so quarantine/orders.csv is written
    for title in ("..%2F..%2Fx", "orders..", "orders x", "dealers'--"):  # "/", "\\" and ":" Excel refuses itself
        evil = book.create_sheet(title)
        evil.append(["order_id", "dealer_id", "order_date", "amount"])
        evil.append(["E1", "D9", "not a date", "NaN"])
    book.save(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as zin, zipfile.ZipFile(src / "dealer_data.xlsx", "w") as zout:
        for item in zin.infolist():  # a title Excel would refuse, written into the file by hand
            data = zin.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b'name="orders x"', b'name="../../x"')
            zout.writestr(item, data)
    (tmp_path / "plain.xlsx").unlink()
    assert "../../x" in openpyxl.load_workbook(src / "dealer_data.xlsx", read_only=True).sheetnames

    assert main(["validate", "--data", str(src), "--out", str(out)]) == 0

    assert list(read_source(src).tables) == ["dealers", "orders"]
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "out", "out/data_quality.csv", "out/quarantine", "out/quarantine/orders.csv", "src", "src/dealer_data.xlsx",
    ]


def test_a_table_file_linked_from_elsewhere_is_read(tmp_path):
    # a decision, not a hole: the source folder is the user's, and so is where its files live
    (tmp_path / "elsewhere.csv").write_text(ORDERS)
    src = tmp_path / "src"
    src.mkdir()
    (src / "dealers.csv").write_text(DEALERS)
    (src / "orders.csv").symlink_to(tmp_path / "elsewhere.csv")

    assert read_source(src).tables["orders"].frame["order_id"].tolist() == ["O1"]


@pytest.mark.parametrize("href", [
    "../secret.html", "/etc/passwd", "sub/x.html", "..", ".hidden", "javascript:alert(1)", "C:\\x.html",
    "%2e%2e", "data:text/html,x", "x.html\nSet-Cookie", "a b.html", "",
])
def test_landing_page_links_accept_plain_file_names_only(href):
    from channel_analysis.report.display import show_links

    with pytest.raises(ValueError, match="not a file beside the page"):
        show_links([("text", href, "")])


def test_landing_page_links_escape_every_part(monkeypatch):
    from channel_analysis.report import display as report

    shown = []
    monkeypatch.setattr(report, "_display_escaped", shown.append)
    report.show_links([('<b>x</b>', 'a"onmouseover="alert(1).csv', "<script>1</script>"), ("q", "quarantine", "")])
    [markup] = shown
    assert 'href="a&quot;onmouseover=&quot;alert(1).csv"' in markup
    assert "<script>" not in markup and "<b>" not in markup
    assert 'href="quarantine"' in markup


# --- SQL injection --------------------------------------------------------------------

HOSTILE = ['orders"; DROP TABLE "dealers "; --', "dealers; DROP TABLE orders", "x') OR 1=1 --"]


def hostile_database(path: Path, kind: str) -> None:
    """Contract tables whose names need quoting ("dealers " with a space), beside hostile names."""
    con = duckdb.connect(str(path)) if kind == "duckdb" else sqlite3.connect(path)
    con.execute('CREATE TABLE "dealers " (dealer_id TEXT, dealer_name TEXT, region TEXT, signed_date TEXT)')
    con.execute("""INSERT INTO "dealers " VALUES ('D1', 'Alpha', 'North', '2024-01-01')""")
    con.execute('CREATE TABLE "Orders" (order_id TEXT, dealer_id TEXT, order_date TEXT, amount TEXT)')
    con.execute("""INSERT INTO "Orders" VALUES ('O1', 'D1', '2024-02-01', '10.5')""")
    for name in HOSTILE:
        quoted = '"' + name.replace('"', '""') + '"'
        con.execute(f"CREATE TABLE {quoted} (order_id TEXT)")
        con.execute(f"INSERT INTO {quoted} VALUES ('hostile')")
    if kind == "sqlite":
        con.commit()
    con.close()


def table_names(path: Path, kind: str) -> list[str]:
    if kind == "duckdb":
        with duckdb.connect(str(path), read_only=True) as con:
            return sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())
    with sqlite3.connect(path) as con:
        names = sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    con.close()
    return names


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_hostile_table_names_are_never_queried_and_the_source_is_unchanged(kind, tmp_path):
    path = tmp_path / f"shop.{kind}"
    hostile_database(path, kind)
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    names = table_names(path, kind)

    source = read_source(path)

    assert {t: r.origin for t, r in source.tables.items()} == {"dealers": "table dealers ", "orders": "table Orders"}
    assert source.tables["dealers"].frame["dealer_id"].tolist() == ["D1"]
    assert source.tables["orders"].frame["order_id"].tolist() == ["O1"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == checksum
    assert table_names(path, kind) == names


@pytest.mark.postgres
def test_url_parameters_go_to_the_driver_never_into_sql(pg_server, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", pg_server.password)
    with pg_server.connect(autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS security_shop")
        con.execute("CREATE DATABASE security_shop")
    with pg_server.connect("security_shop", autocommit=True) as con:
        con.execute("CREATE TABLE dealers (dealer_id text, dealer_name text, region text, signed_date date)")
        con.execute("INSERT INTO dealers VALUES ('D1', 'Alpha', 'North', '2024-01-01')")
        con.execute("CREATE TABLE orders (order_id text, dealer_id text, order_date date, amount numeric)")
        con.execute("INSERT INTO orders VALUES ('O1', 'D1', '2024-02-01', 10.5)")
    url = pg_server.url.rsplit("/", 1)[0] + "/security_shop"

    # libpq hands "options" to the server as settings: the "DROP" is a bad setting value, never a statement
    message = source_problem(url + "?options=-c%20statement_timeout%3D1%3BDROP%5C%20TABLE%5C%20orders")
    assert 'invalid value for parameter "statement_timeout"' in message
    # a valid setting is applied as a value, and still runs nothing
    assert read_source(url + "?options=-c%20application_name%3Dx%3BDROP%5C%20TABLE%5C%20orders").tables["orders"]

    with pg_server.connect("security_shop") as con:
        assert con.execute("SELECT count(*) FROM orders").fetchone() == (1,)


# --- notebook parameters are data, never code -----------------------------------------


def test_notebook_parameters_with_quotes_and_newlines_stay_strings(tmp_path):
    from channel_analysis.report.runner import execute_report

    parameters = 'data: str = "x"  # data source\nmonth: str = "2026-10"  # report month'
    body = "import json\nprint(json.dumps([data, month]))"
    finish = "from channel_analysis.report.runner import report_finished\nreport_finished()"
    nb = new_notebook(cells=[new_code_cell(parameters, metadata={"tags": ["parameters"]}), new_code_cell(body),
                             new_code_cell(finish)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "probe.ipynb")
    payload = {
        "data": 'x"\nopen("PWNED", "w")\n"""\\\'\n#',
        "month": "2026-10'\n__import__('pathlib').Path('PWNED').touch()\n'",
    }

    done = execute_report(tmp_path / "probe.ipynb", payload, workdir=tmp_path, output_notebook=tmp_path / "out.ipynb")

    printed = [o["text"] for c in nbformat.read(done, as_version=4).cells for o in c.get("outputs", []) if "text" in o]
    assert json.loads(printed[0]) == [payload["data"], payload["month"]]
    assert not (tmp_path / "PWNED").exists()


def test_notebook_parameters_of_other_types_are_refused(tmp_path):
    from channel_analysis.report.runner import Parameter, check_parameters

    declared = {"data": Parameter("str", "", ""), "month": Parameter("str", "", "")}
    for given in ({"data": Path("x"), "month": "2026-10"}, {"data": ("a",), "month": "2026-10"},
                  {"data": "x", "month": "2026-10", "extra": "1"}):
        with pytest.raises(ParameterError):
            check_parameters(declared, given, "probe.ipynb")


# --- secrets --------------------------------------------------------------------------


def commands(url: str, tmp_path: Path) -> list[list[str]]:
    out, log = str(tmp_path / "reports"), str(tmp_path / "run.log")
    return [
        ["validate", "--data", url, "--out", out],
        ["backtest", "--data", url, "--months", "2025-12..2025-12", "--out", out],
        ["run", "--data", url, "--month", "2025-12", "--out", out, "--log", log],
    ]


def written(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_a_password_in_the_url_is_hidden_on_every_command(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    url = f"postgresql://reader:Hush-Secret-4321@127.0.0.1:{closed_port()}/shop"
    for argv in commands(url, tmp_path):
        assert main(argv) == 2, argv
        shown = capsys.readouterr()
        assert "reader:***@127.0.0.1" in shown.err, argv
        assert "Hush-Secret-4321" not in shown.out + shown.err, argv
    assert (tmp_path / "run.log").exists()
    assert b"Hush-Secret-4321" not in written(tmp_path)


@pytest.mark.parametrize("key", ["password", "sslpassword", "PASSWORD", "api_key", "token"])
def test_a_secret_in_the_url_query_string_is_refused_on_every_command(key, tmp_path, capsys):
    url = f"postgresql://reader@127.0.0.1:{closed_port()}/shop?sslmode=disable&{key}=Hush-Query-1234"
    for argv in commands(url, tmp_path):
        assert main(argv) == 2, argv
        shown = capsys.readouterr()
        assert "PGPASSWORD" in shown.err and "query string" in shown.err, argv
        assert "Hush-Query-1234" not in shown.out + shown.err, argv
    assert b"Hush-Query-1234" not in written(tmp_path)


# --- oversized inputs -----------------------------------------------------------------


def orders_source(tmp_path: Path, orders: bytes) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "dealers.csv").write_text(DEALERS)
    (src / "orders.csv").write_bytes(orders)
    return src


def test_a_csv_line_without_end_is_refused(tmp_path):
    src = orders_source(tmp_path, ORDERS.encode() + b"O2," + b"y" * (files._MAX_LINE + 1))

    message = source_problem(src)

    assert message.startswith("orders.csv has a line of more than 16 MB starting at byte 59")
    assert "line break" in message


def test_a_csv_header_of_a_million_columns_is_refused(tmp_path):
    header = ",".join(f"c{i}" for i in range(1_000_000)).encode()
    src = orders_source(tmp_path, header + b"\n1\n")

    message = source_problem(src)

    assert message.startswith("orders.csv has 1,000,000 columns in its header, more than 16,384")
    assert len(message) < 300  # not a list of a million names


def test_the_memory_guard_reads_what_the_machine_has():
    available = raw_tables._available_memory()
    assert available is not None and available > 2**26  # Linux: MemAvailable, in bytes


def a_million_orders_in_a_small_parquet_file(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 1_000_000
    same = lambda value: pa.DictionaryArray.from_arrays(pa.array([0] * n, pa.int8()), pa.array([value]))  # noqa: E731
    pq.write_table(pa.table({"order_id": same("O1"), "dealer_id": same("D1"), "order_date": same("2024-02-01"),
                             "amount": same("1")}), path)


@pytest.mark.parametrize("kind", ["csv", "parquet", "duckdb", "postgresql"])
def test_a_table_larger_than_the_memory_available_is_refused_before_it_is_read(kind, tmp_path, monkeypatch, request):
    # 1,000,000 orders of 4 columns need about 80 MB once read: refused when only 50 MB are
    # available (the machine's MemAvailable, here set low), read when 500 MB are
    src = tmp_path / "src"
    src.mkdir()
    (src / "dealers.csv").write_text(DEALERS)
    if kind == "csv":
        (src / "orders.csv").write_text(ORDERS + "O1,D1,2024-02-01,1\n" * 999_999)
        spec, origin = src, "orders.csv"
    elif kind == "parquet":
        a_million_orders_in_a_small_parquet_file(src / "orders.parquet")
        assert (src / "orders.parquet").stat().st_size < 100_000
        spec, origin = src, "orders.parquet"
    elif kind == "postgresql":
        server = request.getfixturevalue("pg_server")
        monkeypatch.setenv("PGPASSWORD", server.password)
        with server.connect(autocommit=True) as con:
            con.execute("DROP DATABASE IF EXISTS big_shop")
            con.execute("CREATE DATABASE big_shop")
        with server.connect("big_shop", autocommit=True) as con:
            con.execute("CREATE TABLE dealers AS SELECT 'D1' dealer_id, 'Alpha' dealer_name, 'North' region, "
                        "DATE '2024-01-01' signed_date")
            con.execute("CREATE TABLE orders AS SELECT 'O' || i order_id, 'D1' dealer_id, "
                        "DATE '2024-02-01' order_date, 1.0 amount FROM generate_series(1, 1000000) i")
        spec, origin = server.url.rsplit("/", 1)[0] + "/big_shop", "table orders"
    else:
        spec = tmp_path / "source.duckdb"
        with duckdb.connect(str(spec)) as con:
            con.execute("CREATE TABLE dealers AS SELECT 'D1' dealer_id, 'Alpha' dealer_name, 'North' region, "
                        "DATE '2024-01-01' signed_date")
            con.execute("CREATE TABLE orders AS SELECT 'O' || i order_id, 'D1' dealer_id, "
                        "DATE '2024-02-01' order_date, 1.0 amount FROM range(1000000) t(i)")
        origin = "orders"
    monkeypatch.setattr(raw_tables, "_available_memory", lambda: 50 * 2**20)

    message = source_problem(spec)

    assert origin in message and "1,000,000 rows" in message
    assert "0.1 GB of memory" in message and "0.0 GB available" in message
    assert "docs/scaling.md" in message
    monkeypatch.setattr(raw_tables, "_available_memory", lambda: 500 * 2**20)
    assert len(read_source(spec).tables["orders"].frame) == 1_000_000


def test_a_huge_csv_field_is_refused(tmp_path):
    # quoted, with line breaks inside, so that no line is long. Arrow's reader gives up on a row
    # larger than a few of its 1 MB blocks; Python's csv reader then refuses a field over 128 KiB
    field = ("z" * 99 + "\n") * 80_000  # 8 MB
    src = orders_source(tmp_path, (ORDERS + f'O2,D1,2024-02-01,"{field}"\n').encode())

    message = source_problem(src)

    assert message.startswith("orders.csv cannot be read as CSV (line ")  # the physical line where the limit was passed
    assert message.endswith("field larger than field limit (131072))")


def test_a_long_line_is_refused_in_bounded_memory(tmp_path):
    # 128 MB on one line: without the guard the encoding check alone holds it twice over (>= 256 MB)
    size = 128 << 20
    with open(orders_source(tmp_path, ORDERS.encode()) / "orders.csv", "ab") as f:
        for _ in range(size >> 20):
            f.write(b"y" * (1 << 20))
    probe = textwrap.dedent(f"""
        import resource
        from channel_analysis.errors import SourceError
        from channel_analysis.sources.read import read_source
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            read_source({str(tmp_path / "src")!r})
        except SourceError as exc:
            print(str(exc).split(";")[0])
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    message, grown_mb = done.stdout.splitlines()
    assert message == "orders.csv has a line of more than 16 MB starting at byte 59"
    assert int(grown_mb) < 64


def workbook_with_sheet(path: Path, sheet_xml: bytes, *, extra_sheets: int = 0) -> Path:
    """A real workbook (dealers and orders sheets) whose orders sheet XML is replaced by ``sheet_xml``."""
    book = openpyxl.Workbook()
    book.active.title = "dealers"
    book.active.append(["dealer_id", "dealer_name", "region", "signed_date"])
    book.create_sheet("orders").append(["order_id"])
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, sheet_xml if item.filename == "xl/worksheets/sheet2.xml" else zin.read(item))
        for i in range(extra_sheets):
            zout.writestr(f"xl/worksheets/sheet{i + 3}.xml", b"<worksheet/>")
    plain.unlink()
    return path


def sheet(rows: bytes) -> bytes:
    """A worksheet's XML: a header row (order_id), then ``rows``."""
    return (b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
            b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>order_id</t></is></c></row>'
            + rows + b"</sheetData></worksheet>")


def test_a_sheet_row_numbered_beyond_excel_is_refused(tmp_path):
    # a few KB that would make openpyxl hand over a billion empty rows (about ten minutes)
    src = tmp_path / "src"
    src.mkdir()
    far = b'<row r="1000000000"><c r="A1000000000"><v>1</v></c></row>'
    assert workbook_with_sheet(src / "dealer_data.xlsx", sheet(far)).stat().st_size < 10_000

    message = source_problem(src)

    assert message == ("dealer_data.xlsx, sheet orders has a row numbered beyond Excel's last row 1,048,576; "
                       "save the table as CSV or Parquet")


def test_a_workbook_that_unpacks_to_hundreds_of_times_its_size_is_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    workbook_with_sheet(src / "dealer_data.xlsx", sheet(b"<row/>" * 5_000_000))  # 30 MB of XML in ~50 KB

    message = source_problem(src)

    assert message.startswith("dealer_data.xlsx is refused: its part xl/worksheets/sheet2.xml unpacks to")
    assert "(at most 100); export the tables as CSV or Parquet" in message


def test_a_workbook_with_too_many_sheets_is_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    workbook_with_sheet(src / "dealer_data.xlsx", sheet(b""), extra_sheets=excel._MAX_SHEETS)

    message = source_problem(src)

    assert message.startswith(f"dealer_data.xlsx is refused: it has {excel._MAX_SHEETS + 2:,} worksheets")


def test_a_sheet_of_rows_padded_to_the_last_column_stops_at_the_cell_limit(tmp_path, monkeypatch):
    # each row holds one cell in column XFD: openpyxl pads it to 16,384 values. The limit is
    # lowered so that the test takes a second; the real one (50 M cells) takes about a minute.
    monkeypatch.setattr(excel, "_MAX_SHEET_CELLS", 2_000_000)
    rows = b"".join(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (n, n) for n in range(2, 1_000))
    src = tmp_path / "src"
    src.mkdir()
    workbook_with_sheet(src / "dealer_data.xlsx", sheet(rows))

    message = source_problem(src)

    assert message == ("dealer_data.xlsx, sheet orders has more than 2,000,000 cells up to row 124; "
                       "save the table as CSV or Parquet")


def test_a_sheet_declaring_xml_entities_is_refused(tmp_path):
    # "billion laughs": ten levels of ten references, a few hundred bytes standing for 10 GB of text
    entities = b'<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([98 + i]), b"&%s;" % bytes([97 + i]) * 10) for i in range(9))
    laughs = sheet(b'<row r="2"><c r="A2" t="inlineStr"><is><t>&j;</t></is></c></row>').replace(
        b"<worksheet ", b"<!DOCTYPE worksheet [" + entities + b"]><worksheet ", 1)
    src = tmp_path / "src"
    src.mkdir()
    workbook_with_sheet(src / "dealer_data.xlsx", laughs)

    message = source_problem(src)

    assert message.startswith("dealer_data.xlsx is not a valid Excel workbook")
