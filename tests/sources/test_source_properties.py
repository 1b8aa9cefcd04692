"""Properties of whole sources (hypothesis): random contract-valid sources, and the same
sources broken in the ways users break them, run through the command line in-process.

Valid rows are drawn from the contract's tables in :mod:`channel_analysis.schema` (column
kinds, allowed codes, value rules, ids and references); the row rules that tie several
columns together are honoured by :func:`_made_consistent`. Breakages then change one
thing at a time: bad dates, unknown codes, duplicate ids, dangling references, missing
columns, empty or missing tables, extra columns, negative amounts, blank cells, ragged rows.

For every source:

* ``validate`` ends with status 0, or with status 2 and one message, exactly when a
  required table or column is gone; never a traceback;
* per table, rows read = the records written = accepted + quarantined; a valid source
  quarantines nothing;
* ``backtest`` of a month: alerts and health rows only for accepted dealers, health
  scores within 0–100, and a second computation writes the same bytes.
"""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.config import ORDER_BEFORE_SIGNING_DAYS
from channel_analysis.sources.read import read_source
from channel_analysis.validate.memory import validate_source
from helpers.cli import cli
from helpers.mini_source import BASE

FIRST_DAY, LAST_DAY = date(2023, 1, 1), date(2025, 12, 31)
REGIONS = ["山东", "江苏", "广东"]
DEALER_IDS = [f"D{i:03d}" for i in range(1, 10)] + ["00123", "NA"]  # "NA" is an id, not a missing value
TEXTS = ["张伟", "苏州吊装设备", "A", "B", "crane", "parts", "质量部", "=1+1", "<b>x</b>", "a,b", 'say "hi"']
BOOLEANS = ["true", "false", "TRUE", "yes", "no", "1", "0", "f"]
ROWS_PER_TABLE = {"sales_managers": 3, "dealers": 6, "orders": 40, "interactions": 15, "service_requests": 8,
                  "expenses": 6, "prospects": 6, "events": 3, "event_attendance": 6}


@dataclass
class Table:
    """A CSV file as written: header and rows of text cells."""

    header: list[str]
    rows: list[list[str]]

    def column(self, name: str) -> list[str]:
        i = self.header.index(name)
        return [r[i] if i < len(r) else "" for r in self.rows]

    def records(self) -> int:
        """Data records a reader finds: blank lines and trailing rows of empty cells are not data."""
        rows = [r for r in self.rows if r]  # a row of no cells is written as a blank line
        while rows and not any(rows[-1]):
            rows.pop()
        return len(rows)


@dataclass
class Drawn:
    """A source and what must happen to it."""

    tables: dict[str, Table]
    changes: list[str] = field(default_factory=list)

    @property
    def culprits(self) -> list[str]:
        """What makes the source unusable (exit status 2), as its message must name it. Reading
        reports a missing required table or a column named twice; only a source that reads is
        checked for required columns, so those are named when nothing else is wrong."""
        unread = [f"required table {name} is missing" for name in schema.REQUIRED_TABLES if name not in self.tables]
        columns_gone = []
        for name, table in self.tables.items():
            names = [h.strip().lower() for h in table.header]
            if len(set(names)) < len(names):
                unread.append(f"{name}.csv has duplicate column names")
            elif set(schema.required_columns(name)) - set(names):
                columns_gone.append(f"{name}.csv: column")
        return unread or columns_gone

    @property
    def unusable(self) -> bool:
        return bool(self.culprits)

    def write(self, folder: Path) -> None:
        for name, table in self.tables.items():
            with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(table.header)
                writer.writerows(table.rows)


# --------------------------------------------------------------------------- valid sources


def _iso(day: date) -> str:
    return day.isoformat()


def _days(draw, first: date = FIRST_DAY, last: date = LAST_DAY) -> date:
    return draw(st.dates(first, max(first, last)))


def _number(draw, column) -> str:
    """A number that keeps the column's value rules (pandera checks in the schema)."""
    low, high, nonzero = -1e6, 1e7, False
    for check in column.checks:
        stats = check.statistics
        if check.name == "greater_than":
            low = stats["min_value"] + 0.5
        elif check.name == "greater_than_or_equal_to":
            low = stats["min_value"]
        elif check.name == "in_range":
            low, high = stats["min_value"], stats["max_value"]
        elif check.name == "not_equal_to":
            nonzero = True
    if column.metadata["kind"] == schema.INTEGER:
        value = draw(st.integers(int(low) if low > -1e6 else -50, int(min(high, 50))))
    else:
        value = round(draw(st.floats(low, min(high, 5e6), allow_nan=False)), 2)
    if nonzero and value == 0:
        value = 1
    return str(value)


def _value(draw, table: str, name: str, column, drawn: dict[str, Table]) -> str:
    kind, meta = column.metadata["kind"], column.metadata
    if meta["ref"]:
        ref_table, ref_col = meta["ref"].split(".")
        if ref_table not in drawn:  # not checked without the table
            return "" if column.nullable else f"{ref_table[:2].upper()}1"
        choices = drawn[ref_table].column(ref_col)
        if not choices or (column.nullable and draw(st.integers(0, 3)) == 0):
            return ""
        return draw(st.sampled_from(choices))
    if column.nullable and draw(st.integers(0, 4)) == 0:
        return ""
    if kind == schema.CODE:
        [allowed] = [c.statistics["allowed_values"] for c in column.checks if c.name == "isin"]
        return draw(st.sampled_from(sorted(allowed)))
    if kind == schema.DATE:
        return _iso(_days(draw))
    if kind == schema.TIMESTAMP:
        day = _iso(_days(draw))
        return day if draw(st.booleans()) else f"{day} {draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
    if kind in (schema.NUMBER, schema.INTEGER):
        return _number(draw, column)
    if kind == schema.BOOLEAN:
        return draw(st.sampled_from(BOOLEANS))
    if name == "region":
        return draw(st.sampled_from(REGIONS))
    return draw(st.sampled_from(TEXTS))


def _made_consistent(draw, table: str, row: dict[str, str], drawn: dict[str, Table]) -> dict[str, str]:
    """``row`` changed so that it keeps the rules over several columns (the schema's dataframe checks)."""
    if table == "dealers" and row.get("terminated_date") and row["terminated_date"] < row["signed_date"]:
        row["signed_date"], row["terminated_date"] = row["terminated_date"], row["signed_date"]
    elif table == "orders" and row["dealer_id"] in drawn["dealers"].column("dealer_id"):
        signed = dict(zip(drawn["dealers"].column("dealer_id"), drawn["dealers"].column("signed_date")))[row["dealer_id"]]
        first = date.fromisoformat(signed) - timedelta(days=ORDER_BEFORE_SIGNING_DAYS)
        row["order_date"] = _iso(_days(draw, first, min(LAST_DAY, first + timedelta(days=900))))
    elif table == "service_requests" and row.get("closed_at") and row["closed_at"] < row["opened_at"]:
        row["opened_at"], row["closed_at"] = row["closed_at"], row["opened_at"]
    elif table == "prospects":
        dealers = drawn["dealers"].column("dealer_id")
        status = draw(st.sampled_from(schema.PROSPECT_STATUSES if dealers else ("open", "lost")))
        row["status"] = status
        row["stage_reached"] = "signed" if status == "signed" else draw(st.sampled_from(schema.STAGES[:-1]))
        if status == "signed":
            row["dealer_id"] = draw(st.sampled_from(dealers))
        if status != "open" and not row["closed_date"]:
            row["closed_date"] = _iso(_days(draw))
        if row["closed_date"] and row["closed_date"] < row["first_contact_date"]:
            row["first_contact_date"], row["closed_date"] = row["closed_date"], row["first_contact_date"]
    return row


@st.composite
def valid_sources(draw) -> Drawn:
    """Every required table and some optional ones, each with its required columns and some
    optional ones, rows that keep every rule; ids unique, references resolved."""
    drawn: dict[str, Table] = {}
    for table in schema.TABLES:
        if table not in schema.REQUIRED_TABLES and not draw(st.integers(0, 3)):
            continue
        columns = {n: c for n, c in schema.columns_of(table).items() if c.required or draw(st.booleans())}
        key = schema.key_of(table)
        n = draw(st.integers(1 if table == "dealers" else 0, ROWS_PER_TABLE[table]))
        refers_to = {c.metadata["ref"].split(".")[0] for c in columns.values() if c.metadata["ref"] and not c.nullable}
        if any(ref in drawn and not drawn[ref].rows for ref in refers_to):
            n = 0  # every row would refer to a row of an empty table
        ids = (
            draw(st.lists(st.sampled_from(DEALER_IDS), min_size=n, max_size=n, unique=True))
            if table == "dealers"
            else [f"{table[:2].upper()}{i}" for i in range(1, n + 1)]
        )
        rows, seen = [], set()
        for i in range(n):
            row = {name: _value(draw, table, name, col, drawn) for name, col in columns.items()}
            if len(key) == 1:
                row[key[0]] = ids[i]
            row = _made_consistent(draw, table, row, drawn)
            if tuple(row[k] for k in key) in seen:  # a compound key drawn twice
                continue
            seen.add(tuple(row[k] for k in key))
            rows.append([row[c] for c in columns])
        drawn[table] = Table(list(columns), rows)
    return Drawn(drawn)


# --------------------------------------------------------------------------- breakages

BAD_DATES = ["2024-02-30", "05/03/2024", "0024-01-01", "2024-13-01", "tomorrow", "2024-1-5", "9999-12-31", "20240105"]
BAD_NUMBERS = ["abc", "1,000", "inf", "nan", "1e400", "1e20", "--1", "十"]
DANGLING = ["D999", "SM9", "EV9", "d001", "D001 x"]


def _cells_of_kind(table: str, t: Table, kinds: tuple[str, ...]) -> list[int]:
    return [i for i, name in enumerate(t.header) if name in schema.columns_of(table)
            and schema.kind_of(table, name) in kinds]


@st.composite
def broken(draw, source: Drawn) -> Drawn:
    """``source`` with 1–4 breakages, each named in ``changes``."""
    tables = {n: Table(list(t.header), [list(r) for r in t.rows]) for n, t in source.tables.items()}
    out = Drawn(tables)
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(tables)))
        t = tables[name]
        change = draw(st.sampled_from([
            "bad date", "unknown code", "duplicate id", "dangling reference", "missing column", "empty table",
            "missing table", "extra column", "negative amount", "not a number", "blank cell", "ragged row",
            "repeated header", "padded and upper-cased header", "order long before signing",
        ]))
        row = draw(st.integers(0, len(t.rows) - 1)) if t.rows else None

        def set_cell(kinds: tuple[str, ...], values: list[str]) -> bool:
            cols = _cells_of_kind(name, t, kinds)
            if row is None or not cols:
                return False
            t.rows[row][draw(st.sampled_from(cols))] = draw(st.sampled_from(values))
            return True

        done = False
        if change == "bad date":
            done = set_cell((schema.DATE, schema.TIMESTAMP), BAD_DATES)
        elif change == "unknown code":
            done = set_cell((schema.CODE,), ["email", "Phone", "PHONE", "signed!", "其他"])
        elif change == "duplicate id" and row is not None:
            t.rows.append(list(t.rows[row]))
            done = True
        elif change == "dangling reference":
            refs = [i for i, c in enumerate(t.header) if c in schema.references(name)]
            if row is not None and refs:
                t.rows[row][draw(st.sampled_from(refs))] = draw(st.sampled_from(DANGLING))
                done = True
        elif change == "missing column" and len(t.header) > 1:
            i = draw(st.integers(0, len(t.header) - 1))
            del t.header[i]
            for r in t.rows:
                del r[i : i + 1]
            done = True
        elif change == "empty table":
            t.rows.clear()
            done = True
        elif change == "missing table" and len(tables) > 1:
            del tables[name]
            done = True
        elif change == "extra column":
            t.header.append(draw(st.sampled_from(["note", "备注", "Extra "])))
            for r in t.rows:
                r.append(draw(st.sampled_from(["", "x", "=cmd"])))
            done = True
        elif change == "negative amount":
            done = set_cell((schema.NUMBER, schema.INTEGER), ["-5", "0", "-0.01", "-1e6"])
        elif change == "not a number":
            done = set_cell((schema.NUMBER, schema.INTEGER, schema.BOOLEAN), BAD_NUMBERS)
        elif change == "blank cell":
            done = set_cell((schema.TEXT, schema.CODE, schema.DATE, schema.TIMESTAMP, schema.NUMBER), ["", "  "])
        elif change == "ragged row" and row is not None:
            t.rows[row] = t.rows[row] + ["surplus"] if draw(st.booleans()) else t.rows[row][:-1]
            done = True
        elif change == "repeated header" and row is not None:
            t.rows.insert(row, list(t.header))
            done = True
        elif change == "padded and upper-cased header":
            i = draw(st.integers(0, len(t.header) - 1))
            t.header[i] = f" {t.header[i].upper()} "
            done = True
        elif change == "order long before signing" and name == "orders" and row is not None:
            t.rows[row][t.header.index("order_date")] = "2020-01-01"
            done = True
        if done:
            out.changes.append(f"{change} in {name}")
    return out


@st.composite
def sources(draw) -> Drawn:
    source = draw(valid_sources())
    return draw(broken(source)) if draw(st.booleans()) else source


# --------------------------------------------------------------------------- running


def _validated(source: Drawn, src: Path, work: Path) -> pd.DataFrame | None:
    """Run ``validate``; check the outcome against the source; → data_quality (None when unusable)."""
    status, out, err = cli("validate", "--data", str(src), "--out", str(work / "quality"))
    assert "Traceback" not in out + err
    if source.unusable:
        assert status == 2, (source.changes, out, err)
        assert err.startswith("channel-analysis: ")
        for culprit in source.culprits:  # every problem at once
            assert culprit in err, (culprit, err)
        assert out == ""
        return None
    assert status == 0, (source.changes, err)
    quality = pd.read_csv(work / "quality" / "data_quality.csv").set_index("table")
    assert set(quality.index) == set(source.tables)
    for name, table in source.tables.items():
        assert quality.loc[name, "rows_read"] == table.records(), (name, source.changes)
    assert (quality.rows_read == quality.rows_accepted + quality.rows_quarantined).all()
    if not source.changes:
        assert quality.rows_quarantined.sum() == 0, pd.read_csv(next((work / "quality" / "quarantine").iterdir()))
    return quality


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


MONTHS = [str(p) for p in pd.period_range("2024-02", "2025-12", freq="M")]
# Small and the same examples on every CI run; to search longer (and at random), set
# PROPERTY_EXAMPLES (e.g. 200) when running this module.
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "0")) or None
FIGURES = settings(max_examples=EXAMPLES or 10, deadline=None, derandomize=EXAMPLES is None,
                   suppress_health_check=[HealthCheck.too_slow])
QUALITY = settings(FIGURES, max_examples=(EXAMPLES or 10) * 4)


@QUALITY
@given(sources())
def test_validate_ends_in_a_contracted_outcome_and_every_record_is_counted(source):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        source.write(src)
        _validated(source, src, Path(tmp))


@FIGURES
@given(sources(), st.sampled_from(MONTHS))
def test_a_month_of_any_usable_source_is_sound_and_computed_twice_the_same(source, month):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "src"
        src.mkdir()
        source.write(src)
        if _validated(source, src, tmp) is None:
            status, _, err = cli("backtest", "--data", str(src), "--months", f"{month}..{month}", "--out", str(tmp / "a"))
            assert status == 2 and err.startswith("channel-analysis: ")
            return
        dealers = validate_source(read_source(src)).tables["dealers"]
        months = f"{pd.Period(month, freq='M') - 1}..{month}"
        runs = []
        for out in ("a", "b"):
            status, _, err = cli("backtest", "--data", str(src), "--months", months, "--out", str(tmp / out))
            assert status == 0, err
            runs.append(_files(tmp / out))
        assert runs[0] == runs[1]
        assert {"kpis.csv", "alerts.csv", "alerts.xlsx", "dealer_health.csv"} <= {Path(k).name for k in runs[0]}
        dealers = set(dealers.dealer_id)
        for label in months.split(".."):
            folder = tmp / "a" / label
            alerts = pd.read_csv(folder / "alerts.csv", dtype=str, keep_default_na=False)
            health = pd.read_csv(folder / "dealer_health.csv", dtype={"dealer_id": str}, keep_default_na=False)
            assert set(alerts.dealer_id) <= dealers
            assert set(health.dealer_id) <= dealers
            assert pd.to_numeric(health.health_score).between(0, 100).all()
            assert (alerts.month == label).all() and (health.month == label).all()


LEFT = "dealer_id,dealer_name,region,signed_date,terminated_date\nD001,a,山东,2024-01-05,2024-08-11\n"
ORDERS = "order_id,dealer_id,order_date,amount\n" + "".join(
    f"O{i},D001,{day},100\n" for i, day in enumerate(["2024-01-20", "2024-03-20", "2024-06-20"])
)
EMPTY_NETWORK = {  # usable sources and a month in which no dealer is in the network → (files, months)
    # the contract: "a required table with a header and no rows is usable"; ValueError (NaT) in history_from_panel
    "dealers header only": ({**BASE, "dealers": BASE["dealers"].split("\n", 1)[0] + "\n"}, "2024-06..2024-06"),
    # before the first signing: the same ValueError
    "month before the first dealer": (BASE, "2023-06..2023-06"),
    # every dealer left before the month: KeyError "2025-10 is outside the panel (2024-01..2024-08)"
    "every dealer left": ({"dealers": LEFT, "orders": ORDERS}, "2025-11..2025-11"),
    # orders after leaving (counted by order_date, as the contract says): TypeError in health._changes
    "orders after leaving": (
        {"dealers": LEFT, "orders": ORDERS + "O7,D001,2025-09-21,100\nO8,D001,2025-11-14,100\n"},
        "2025-10..2025-11",
    ),
}


@pytest.mark.parametrize("case", EMPTY_NETWORK)
def test_a_month_with_no_dealer_in_the_network_is_computed_or_refused(case, tmp_path):
    files, months = EMPTY_NETWORK[case]
    src = tmp_path / "src"
    src.mkdir()
    for name, text in files.items():
        (src / f"{name}.csv").write_text(text, encoding="utf-8")
    status, _, err = cli("backtest", "--data", str(src), "--months", months, "--out", str(tmp_path / "out"))
    assert status == 0 or (status == 2 and err.startswith("channel-analysis: ")), err
