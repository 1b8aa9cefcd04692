"""Rerunning a month: the same data gives the same files, and newer data does not change an old month.

(a) A month run twice on the same source writes byte-identical CSVs and a byte-identical
``alerts.xlsx`` (its cells compared too, so a failure says what differs).
(b) The contract's as-of rule: a month run again after newer data arrived (rows dated
after the month, a dealer signed later, a termination and closings dated after the
month) writes the same kpis.csv, alerts.csv, dealer_health.csv and alerts.xlsx as the
run made when the month had just ended; ``backtest`` agrees for the month before too.

The report notebooks are one-cell stand-ins (as in test_run.py): the tables are what is tested.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from channel_analysis import schema
from channel_analysis.run import backtest as backtest_module
from channel_analysis.run import month as monthly
from helpers.runs import stand_in

MONTH = "2025-06"
END = pd.Timestamp("2025-06-30")
TABLES = ("kpis.csv", "alerts.csv", "dealer_health.csv", "alerts.xlsx")


@pytest.fixture(scope="module")
def world(demo_world) -> dict[str, pd.DataFrame]:
    """The demo world to 2025-12 as text tables, with later arrivals planted; nothing in it
    dated on or before M belongs to a dealer signed after M (such a row could not exist yet)."""
    tables = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in demo_world.glob("*.csv")}
    dealers = tables["dealers"]
    later = set(dealers.loc[dealers.signed_date > "2025-06-30", "dealer_id"])
    for name in ("orders", "interactions", "service_requests"):
        t = tables[name]
        tables[name] = t[~(t.dealer_id.isin(later) & (t[schema.date_column(name)] < "2025-07"))]
    events = tables["events"]
    early_events = set(events.loc[events.held_on <= "2025-06-30", "event_id"])
    attendance = tables["event_attendance"]
    tables["event_attendance"] = attendance[~(attendance.dealer_id.isin(later) & attendance.event_id.isin(early_events))]
    expenses = tables["expenses"]  # spent before the dealer existed: booked without it
    expenses.loc[expenses.dealer_id.isin(later) & (expenses.spent_on < "2025-07"), "dealer_id"] = ""
    prospects = tables["prospects"]  # closed on or before M as a dealer signed only after M: cannot be
    tables["prospects"] = prospects[~(prospects.dealer_id.isin(later) & prospects.closed_date.between("0", "2025-06-30"))]
    return _planted(tables)


def _planted(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Newer data of each kind, beside the demo's own later rows: a dealer signed after M with
    its order, a termination after M of a dealer active in M, a later order, call, complaint
    and event."""
    dealers = tables["dealers"]
    active = dealers[(dealers.signed_date < "2025-01-01") & (dealers.terminated_date == "")].dealer_id.iloc[0]
    dealers.loc[dealers.dealer_id == active, "terminated_date"] = "2025-08-31"
    late = pd.DataFrame([{**dict.fromkeys(dealers.columns, ""), "dealer_id": "DLATE", "dealer_name": "后来的经销商",
                          "region": dealers.region.iloc[0], "signed_date": "2025-07-15"}])
    tables["dealers"] = pd.concat([dealers, late], ignore_index=True)
    rows = {
        "orders": [{"order_id": "OLATE1", "dealer_id": "DLATE", "order_date": "2025-07-20", "amount": "90000"},
                   {"order_id": "OLATE2", "dealer_id": active, "order_date": "2025-07-01", "amount": "5000"}],
        "service_requests": [{"request_id": "RLATE", "dealer_id": active, "process": "complaint",
                              "opened_at": "2025-07-01 00:00", "via_sales_manager": "true"}],
        "interactions": [{"interaction_id": "ILATE", "dealer_id": active, "occurred_at": "2025-07-01 08:00",
                          "kind": "phone", "direction": "inbound"}],
        "events": [{"event_id": "EVLATE", "held_on": "2025-07-05", "kind": "forum", "cost": "1000"}],
        "event_attendance": [{"event_id": "EVLATE", "dealer_id": active}],
    }
    for name, new in rows.items():
        t = tables[name]
        tables[name] = pd.concat([t, pd.DataFrame([{**dict.fromkeys(t.columns, ""), **r} for r in new])], ignore_index=True)
    return tables


def known_on(tables: dict[str, pd.DataFrame], end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The source as it stood on ``end``: rows dated later not yet written, later events not yet
    happened (a termination, a closing, a manager leaving), no row of a dealer not yet signed."""
    day = end.strftime("%Y-%m-%d")
    out = {}
    for name, t in tables.items():
        t = t.copy()
        date_col = schema.date_column(name)
        if date_col:
            t = t[t[date_col].str[:10] <= day]
        out[name] = t
    dealers = out["dealers"]
    dealers.loc[dealers.terminated_date > day, "terminated_date"] = ""
    managers = out["sales_managers"]
    managers.loc[managers.left_date > day, "left_date"] = ""
    requests = out["service_requests"]
    still_open = requests.closed_at.str[:10] > day
    requests.loc[still_open, ["closed_at", "satisfaction"]] = ""
    prospects = out["prospects"]
    still_open = prospects.closed_date > day
    prospects.loc[still_open & (prospects.stage_reached == "signed"), "stage_reached"] = "negotiating"
    prospects.loc[still_open, ["status", "closed_date", "dealer_id"]] = ["open", "", ""]
    held = set(out["events"].event_id)
    out["event_attendance"] = out["event_attendance"][out["event_attendance"].event_id.isin(held)]
    return out


def write(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, t in tables.items():
        t.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


@pytest.fixture
def notebooks(tmp_path, monkeypatch) -> Path:
    """One stand-in report and the landing page: each run starts two kernels, not six."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    monkeypatch.setattr(monthly, "REPORTS", ("dealer_health",))
    for name in ("dealer_health", monthly.LANDING):
        stand_in(folder, name)
    monkeypatch.setattr(monthly, "NOTEBOOKS", folder)
    return folder


def cells(path: Path) -> dict[str, list[list[tuple[str, object]]]]:
    """Every sheet of a workbook → its rows of (cell type, value)."""
    book = load_workbook(path)
    return {ws.title: [[(c.data_type, c.value) for c in row] for row in ws.iter_rows()] for ws in book.worksheets}


def test_a_month_run_twice_writes_the_same_bytes(world, notebooks, tmp_path):
    src = write(world, tmp_path / "src")
    first = monthly.run_month(str(src), MONTH, tmp_path / "one")
    second = monthly.run_month(str(src), MONTH, tmp_path / "two")
    written = sorted(p.relative_to(first).as_posix() for p in first.rglob("*.csv"))
    assert {"kpis.csv", "alerts.csv", "dealer_health.csv", "data_quality.csv"} <= set(written)
    for name in written:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    book = cells(first / "alerts.xlsx")
    assert book == cells(second / "alerts.xlsx")
    assert len(book["alerts"]) > 1, "no alert in the month: the comparison would be empty"
    assert (first / "alerts.xlsx").read_bytes() == (second / "alerts.xlsx").read_bytes()


def test_newer_data_does_not_change_an_old_month(world, notebooks, tmp_path):
    then = write(known_on(world, END), tmp_path / "then")
    now = write(world, tmp_path / "now")
    before = monthly.run_month(str(then), MONTH, tmp_path / "out-then")
    after = monthly.run_month(str(now), MONTH, tmp_path / "out-now")
    # the newer data is there and usable: every kind of arrival is counted after the month
    quality = pd.read_csv(after / "data_quality.csv").set_index("table")
    assert quality.rows_quarantined.sum() == 0
    for name in ("dealers", "orders", "interactions", "service_requests", "events", "expenses", "prospects"):
        assert quality.loc[name, "rows_after_month"] > 0, name
    assert pd.read_csv(before / "data_quality.csv").rows_after_month.sum() == 0
    for name in TABLES:
        assert (before / name).read_bytes() == (after / name).read_bytes(), name
    alerts = pd.read_csv(after / "alerts.csv", dtype=str)
    assert len(alerts) and "DLATE" not in set(alerts.dealer_id)
    # the month before, by backtest: the same on both sources
    previous = "2025-05"
    backtest_module.backtest(str(then), f"{previous}..{MONTH}", tmp_path / "bt-then")
    backtest_module.backtest(str(now), f"{previous}..{MONTH}", tmp_path / "bt-now")
    for month in (previous, MONTH):
        for name in TABLES:
            a, b = tmp_path / "bt-then" / month / name, tmp_path / "bt-now" / month / name
            assert a.read_bytes() == b.read_bytes(), (month, name)
    for name in TABLES:  # and the backtest writes what the run wrote
        assert (tmp_path / "bt-now" / MONTH / name).read_bytes() == (after / name).read_bytes(), name
