"""The action list as files: spreadsheet formulas neutralised, numbers kept as numbers."""

from __future__ import annotations

import pandas as pd
from openpyxl import load_workbook

from channel_analysis.early_warning import ALERT_COLUMNS
from channel_analysis.run.outputs import ALERTS_CSV, alerts_table, neutralise_formulas, write_action_list

RISKY = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def alerts() -> pd.DataFrame:
    names = RISKY + ["山东鲁起", "<script>alert(1)</script>"]
    n = len(names)
    return pd.DataFrame(
        {
            "month": ["2026-10"] * n,
            "dealer_id": [f"D{i}" for i in range(n)],
            "dealer_name": names,
            "region": ["山东"] * n,
            "sales_manager_id": ["SM1"] * n,
            "alert": ["no_reorder"] * n,
            "severity": ["high"] * n,
            "score": [-5.5] + [float(i) for i in range(1, n)],  # a real negative number stays a number
            "figures": ['{"months": 6}'] * n,
        }
    )[ALERT_COLUMNS]


def test_text_that_a_spreadsheet_would_run_gets_a_quote_numbers_do_not():
    out = neutralise_formulas(alerts())
    assert list(out.dealer_name[: len(RISKY)]) == ["'" + r for r in RISKY]
    assert out.dealer_name.iloc[-2] == "山东鲁起"
    assert out.score.iloc[0] == -5.5 and out.score.dtype == float


def test_csv_and_xlsx_carry_no_formula(tmp_path):
    write_action_list(alerts_table(alerts()), tmp_path)
    csv = pd.read_csv(tmp_path / "alerts.csv", dtype=str, keep_default_na=False)
    assert all(v.startswith("'") for v in csv.dealer_name[: len(RISKY)])
    assert csv.score.iloc[0] == "-5.5"
    ws = load_workbook(tmp_path / "alerts.xlsx").active
    header = [c.value for c in ws[1]]
    assert header == ALERTS_CSV  # the contract's columns
    assert ws.cell(row=2, column=header.index("reason") + 1).value == (
        "only the first order, 6 months ago, and no reorder since: visit and find out why")
    name_col, score_col = header.index("dealer_name") + 1, header.index("score") + 1
    for row in range(2, 2 + len(RISKY)):
        cell = ws.cell(row=row, column=name_col)
        assert cell.data_type == "s" and cell.value.startswith("'")
    assert ws.cell(row=2, column=score_col).value == -5.5
    assert ws.cell(row=2, column=score_col).data_type == "n"
    assert ws.cell(row=2 + len(RISKY) + 1, column=name_col).value == "<script>alert(1)</script>"
