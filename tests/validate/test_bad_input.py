"""The bad-input catalogue: one small valid source, one change per case, the exact outcome.

Each case changes the base source below in one way and states what must
happen: the exit status of ``channel-analysis validate``, how many rows each
table quarantines (every table not named: 0), and words the message or the
quarantine reason must contain. The base source itself is valid (first case).
"""

from __future__ import annotations

import io as _io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import pandas as pd
import pytest

from channel_analysis.cli import main
from helpers.mini_source import BASE


def replace(table: str, old: str, new: str) -> Callable[[dict], None]:
    """A change: replace the first ``old`` by ``new`` in ``table``'s CSV text."""

    def change(files: dict) -> None:
        assert old in files[table], f"case is stale: {old!r} not in {table}"
        files[table] = files[table].replace(old, new, 1)

    return change


def append(table: str, line: str) -> Callable[[dict], None]:
    def change(files: dict) -> None:
        files[table] += line + "\n"

    return change


def drop(table: str) -> Callable[[dict], None]:
    def change(files: dict) -> None:
        del files[table]

    return change


def header_only(table: str) -> Callable[[dict], None]:
    def change(files: dict) -> None:
        files[table] = files[table].split("\n", 1)[0] + "\n"

    return change


def encode(table: str, encoding: str) -> Callable[[dict], None]:
    def change(files: dict) -> None:
        files[table] = files[table].encode(encoding)

    return change


def raw_bytes(table: str, data: bytes) -> Callable[[dict], None]:
    def change(files: dict) -> None:
        files[table] = data

    return change


def add_column(table: str, name: str, value: str) -> Callable[[dict], None]:
    def change(files: dict) -> None:
        header, *rows = files[table].rstrip("\n").split("\n")
        files[table] = "\n".join([f"{header},{name}"] + [f"{r},{value}" for r in rows]) + "\n"

    return change


def both(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def change(files: dict) -> None:
        for c in changes:
            c(files)

    return change


@dataclass
class Case:
    id: str
    change: Callable[[dict], None] | None
    status: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    says: tuple[str, ...] = ()  # words in the output (message or quarantine reasons)


CASES = [
    Case("valid base source", None, 0, {}, ("no problems found",)),
    # --- the source cannot be used: exit 2, one message, nothing else
    Case("dealers table missing", drop("dealers"), 2, says=("required table dealers is missing", "dealers.csv")),
    Case("orders table missing", drop("orders"), 2, says=("required table orders is missing",)),
    Case("required column missing", replace("orders", "amount,", "amt,"), 2, says=("column 'amount'", "orders.csv")),
    Case("dealers region missing", replace("dealers", ",region,", ",province,"), 2, says=("column 'region'",)),
    Case(
        "two problems reported together",
        both(replace("orders", "amount,", "amt,"), replace("dealers", ",region,", ",province,")),
        2,
        says=("2 problems", "column 'amount'", "column 'region'"),
    ),
    Case("empty 0-byte file", raw_bytes("orders", b""), 2, says=("orders.csv", "header")),
    Case("undecodable file", raw_bytes("dealers", b"dealer_id,dealer_name\nD1,\xff\xfe\xfa\x80\x81caf\xe9\n"), 2, says=("dealers.csv", "UTF-8")),
    # --- usable sources with odd shapes
    Case("header-only orders", header_only("orders"), 0, {}, ("orders", "read         0")),
    Case("header-only optional table", header_only("interactions"), 0, {}),
    Case("GB18030 with Chinese names", encode("dealers", "gb18030"), 0, {}, ("gb18030",)),
    Case("UTF-8 with BOM", encode("dealers", "utf-8-sig"), 0, {}, ("utf-8-sig",)),
    Case("extra columns are kept", add_column("orders", "note", "备注"), 0, {}),
    Case(
        "mixed-case headers with spaces",
        replace("orders", "order_id,dealer_id,order_date,amount", " Order_ID ,DEALER_ID, Order_Date,Amount "),
        0,
        {},
    ),
    Case("spaces around values are trimmed", replace("orders", "O2,D001,", "O2,  D001 ,"), 0, {}),
    Case("NA is an id, not a missing value", both(append("dealers", "NA,Nanjing,江苏,,,2024-01-01,"), append("orders", "O9,NA,2024-02-01,10,,")), 0, {}),
    # --- rows that break a rule: quarantined, counted, reason given
    Case("duplicate order_id", append("orders", "O1,D001,2024-02-01,5,,"), 0, {"orders": 1}, ("duplicate order_id 'O1'", "row 1")),
    Case("duplicate dealer_id", append("dealers", "D001,copy,山东,,,2024-01-01,"), 0, {"dealers": 1}, ("duplicate dealer_id",)),
    Case("empty dealer_id", append("dealers", ",nameless,山东,,,2024-01-01,"), 0, {"dealers": 1}, ("dealer_id is empty",)),
    Case("empty region", replace("dealers", "00123,广州起重,广东", "00123,广州起重,"), 0, {"dealers": 1, "orders": 2}, ("region is empty", "quarantined row of dealers")),
    Case("order of unknown dealer", append("orders", "O9,D999,2024-02-01,5,,"), 0, {"orders": 1}, ("dealer_id 'D999' is not in dealers",)),
    Case("interaction of unknown dealer", append("interactions", "I9,D999,,2024-02-01,phone,inbound,"), 0, {"interactions": 1}, ("is not in dealers",)),
    Case("interaction of unknown manager", append("interactions", "I9,D001,SM9,2024-02-01,phone,outbound,"), 0, {"interactions": 1}, ("sales_manager_id 'SM9' is not in sales_managers",)),
    Case("service request of unknown dealer", append("service_requests", "R9,D999,order,2024-02-01,,,false,"), 0, {"service_requests": 1}, ("is not in dealers",)),
    Case("expense of unknown dealer", append("expenses", "E9,2024-01-01,10,retention,support,,D999,"), 0, {"expenses": 1}, ("is not in dealers",)),
    Case("prospect signed as unknown dealer", replace("prospects", "2024-01-05,D001", "2024-01-05,D999"), 0, {"prospects": 1}, ("is not in dealers",)),
    Case("attendance of unknown event", append("event_attendance", "EV9,D001"), 0, {"event_attendance": 1}, ("event_id 'EV9' is not in events",)),
    Case("attendance of unknown dealer", append("event_attendance", "EV1,D999"), 0, {"event_attendance": 1}, ("is not in dealers",)),
    Case("attendance given twice", append("event_attendance", "EV1,D001"), 0, {"event_attendance": 1}, ("duplicate event_id+dealer_id",)),
    Case(
        "dealer of unknown manager takes its rows with it",
        replace("dealers", "B,SM2,", "B,SM9,"),
        0,
        {"dealers": 1, "orders": 1, "interactions": 1, "service_requests": 1, "expenses": 1, "event_attendance": 1},
        ("sales_manager_id 'SM9' is not in sales_managers", "refers to a quarantined row of dealers"),
    ),
    Case("amount 0", replace("orders", "35000.5", "0"), 0, {"orders": 1}, ("amount '0' must not be 0",)),
    Case("amount empty", replace("orders", "35000.5", ""), 0, {"orders": 1}, ("amount is empty",)),
    Case("amount text", replace("orders", "35000.5", "abc"), 0, {"orders": 1}, ("amount 'abc' is not a number",)),
    Case("amount with thousands separator", replace("orders", "35000.5", '"35,000.5"'), 0, {"orders": 1}, ("is not a number",)),
    Case("amount infinite", replace("orders", "35000.5", "inf"), 0, {"orders": 1}, ("is not a number",)),
    Case("impossible date", replace("orders", "2024-05-03", "2024-02-30"), 0, {"orders": 1}, ("order_date '2024-02-30' is not an ISO date",)),
    Case("US date format", replace("orders", "2024-05-03", "05/03/2024"), 0, {"orders": 1}, ("is not an ISO date",)),
    Case("year typed short", replace("orders", "2024-05-03", "0024-05-03"), 0, {"orders": 1}, ("is not an ISO date",)),
    Case("month only", replace("orders", "2024-05-03", "2024-05"), 0, {"orders": 1}, ("is not an ISO date",)),
    Case("order long before signing", replace("orders", "O3,D002,2024-02-15", "O3,D002,2024-01-15"), 0, {"orders": 1}, ("more than 30 days before the dealer's signed_date 2024-03-01",)),
    Case("terminated before signed", replace("dealers", "2024-06-01,2025-06-30", "2024-06-01,2023-06-30"), 0, {"dealers": 1, "orders": 2}, ("terminated_date is before signed_date",)),
    Case("empty interaction time", replace("interactions", "2024-03-05 09:00", ""), 0, {"interactions": 1}, ("occurred_at is empty",)),
    Case("kind outside its set", replace("interactions", "visit,outbound", "email,outbound"), 0, {"interactions": 1}, ("kind 'email' is not one of phone, visit, message",)),
    Case("code in upper case", replace("interactions", "phone,outbound", "Phone,outbound"), 0, {"interactions": 1}, ("kind 'Phone'", "lower case")),
    Case("direction outside its set", replace("interactions", "phone,inbound", "phone,incoming"), 0, {"interactions": 1}, ("direction 'incoming'",)),
    Case("negative duration", replace("interactions", "outbound,12", "outbound,-12"), 0, {"interactions": 1}, ("duration_minutes '-12' must not be less than 0",)),
    Case("process outside its set", replace("service_requests", "D001,order,", "D001,invoice,"), 0, {"service_requests": 1}, ("process 'invoice'",)),
    Case("closed before opened", replace("service_requests", "2024-02-01 15:00", "2024-01-31 15:00"), 0, {"service_requests": 1}, ("closed_at is before opened_at",)),
    Case("satisfaction above 5", replace("service_requests", "false,5", "false,6"), 0, {"service_requests": 1}, ("satisfaction '6' must be between 1 and 5",)),
    Case("satisfaction not whole", replace("service_requests", "false,5", "false,3.5"), 0, {"service_requests": 1}, ("is not a whole number",)),
    Case("boolean not a boolean", replace("service_requests", "false,5", "maybe,5"), 0, {"service_requests": 1}, ("via_sales_manager 'maybe' is not true or false",)),
    Case("boolean empty", replace("service_requests", "false,5", ",5"), 0, {"service_requests": 1}, ("via_sales_manager is empty",)),
    Case("negative expense", replace("expenses", "50000,acquisition", "-50000,acquisition"), 0, {"expenses": 1}, ("must be greater than 0",)),
    Case("purpose outside its set", replace("expenses", "50000,acquisition", "50000,marketing"), 0, {"expenses": 1}, ("purpose 'marketing'",)),
    Case("category outside its set", replace("expenses", "retention,travel", "retention,gifts"), 0, {"expenses": 1}, ("category 'gifts'",)),
    Case("negative quantity", replace("orders", "35000.5,10", "35000.5,-10"), 0, {"orders": 1}, ("quantity '-10' must not be less than 0",)),
    Case("negative event cost", replace("events", ",200000", ",-1"), 0, {"events": 1, "event_attendance": 2}, ("cost '-1' must not be less than 0", "quarantined row of events")),
    Case("event kind outside its set", replace("events", "annual_meeting", "party"), 0, {"events": 1, "event_attendance": 2}, ("kind 'party'",)),
    Case("stage outside its set", replace("prospects", "visited,lost", "called,lost"), 0, {"prospects": 1}, ("stage_reached 'called'",)),
    Case("signed status at a lower stage", replace("prospects", "signed,signed", "negotiating,signed"), 0, {"prospects": 1}, ("status is 'signed' exactly when stage_reached is 'signed'",)),
    Case("lost without closed_date", replace("prospects", "lost,2024-03-01", "lost,"), 0, {"prospects": 1}, ("closed_date is required unless status is 'open'",)),
    Case("closed before first contact", replace("prospects", "lost,2024-03-01", "lost,2023-03-01"), 0, {"prospects": 1}, ("closed_date is before first_contact_date",)),
    Case("signed without dealer", replace("prospects", "2024-01-05,D001", "2024-01-05,"), 0, {"prospects": 1}, ("dealer_id is required when status is 'signed'",)),
    Case("negative touches", replace("prospects", ",1,0.5", ",-1,0.5"), 0, {"prospects": 1}, ("touches '-1' must not be less than 0",)),
    Case("header repeated mid-file", append("orders", "order_id,dealer_id,order_date,amount,quantity,product_line"), 0, {"orders": 1}, ("repeated header row",)),
    Case("row with a field too many", append("orders", "O9,D001,2024-02-01,5,1,parts,surplus"), 0, {"orders": 1}, ("fields",)),
    Case("row with a field too few", append("orders", "O9,D001,2024-02-01"), 0, {"orders": 1}, ("fields",)),
]


def _write(folder, files: dict) -> None:
    folder.mkdir()
    for table, content in files.items():
        path = folder / f"{table}.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_catalogue(case: Case, tmp_path, capsys):
    files = dict(BASE)
    if case.change:
        case.change(files)
    _write(tmp_path / "src", files)
    out = tmp_path / "out"
    status = main(["validate", "--data", str(tmp_path / "src"), "--out", str(out)])
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert status == case.status, text
    assert "Traceback" not in text
    for words in case.says:
        assert words in text, f"{words!r} not in:\n{text}"
    if case.status != 0:
        assert not out.exists(), "an unusable source must not write outputs"
        assert printed.out == "", "an unusable source prints only the message"
        return
    quality = pd.read_csv(out / "data_quality.csv").set_index("table")
    assert (quality.rows_read == quality.rows_accepted + quality.rows_quarantined).all()
    found = {t: n for t, n in quality.rows_quarantined.items() if n}
    assert found == case.quarantined
    for table, n in case.quarantined.items():
        bad = pd.read_csv(out / "quarantine" / f"{table}.csv", dtype=str, keep_default_na=False)
        assert len(bad) == n
        assert {"source_row", "reason"} <= set(bad.columns)
        assert (bad.reason != "").all()


def test_catalogue_is_large_enough():
    assert len(CASES) >= 40


def test_leading_zero_ids_stay_text(tmp_path):
    from channel_analysis.sources.read import read_source
    from channel_analysis.validate.memory import validate_source

    _write(tmp_path / "src", dict(BASE))
    validated = validate_source(read_source(tmp_path / "src"))
    assert "00123" in set(validated.tables["dealers"].dealer_id)
    assert set(validated.tables["orders"].dealer_id) == {"D001", "D002", "00123"}


def test_quarantine_keeps_the_row_as_read(tmp_path):
    files = dict(BASE)
    replace("orders", "O2,D001,2024-05-03,35000.5", "O2, D001 ,2024-05-03,abc")(files)
    _write(tmp_path / "src", files)
    main(["validate", "--data", str(tmp_path / "src"), "--out", str(tmp_path / "out")])
    bad = pd.read_csv(tmp_path / "out" / "quarantine" / "orders.csv", dtype=str, keep_default_na=False)
    assert bad.loc[0, "source_row"] == "2"
    assert bad.loc[0, "dealer_id"] == " D001 "  # as read, not trimmed
    assert bad.loc[0, "amount"] == "abc"


def test_excel_date_cells_are_dates(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    src = tmp_path / "src"
    files = {k: v for k, v in BASE.items() if k not in ("orders",)}
    _write(src, files)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["order_id", "dealer_id", "order_date", "amount"])
    ws.append(["O1", "D001", datetime(2024, 1, 20), 1200000])
    ws.append(["O2", "00123", datetime(2024, 6, 10, 0, 0), 250000.0])
    wb.save(src / "orders.xlsx")
    from channel_analysis.sources.read import read_source
    from channel_analysis.validate.memory import validate_source

    validated = validate_source(read_source(src))
    orders = validated.tables["orders"]
    assert validated.quarantined_total == 0
    assert list(orders.order_date) == [pd.Timestamp("2024-01-20"), pd.Timestamp("2024-06-10")]


def test_two_files_for_one_table(tmp_path, capsys):
    _write(tmp_path / "src", dict(BASE))
    pd.read_csv(_io.StringIO(BASE["orders"]), dtype=str).to_parquet(tmp_path / "src" / "orders.parquet")
    assert main(["validate", "--data", str(tmp_path / "src")]) == 2
    err = capsys.readouterr().err
    assert "orders.csv" in err and "orders.parquet" in err


def test_missing_source_path(tmp_path, capsys):
    assert main(["validate", "--data", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
