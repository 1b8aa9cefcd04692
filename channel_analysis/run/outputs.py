"""Writing a month's tables: the same bytes on every rerun, and data that never acts as code.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula (CSV injection). Text cells of the action
list that start so are prefixed with ``'``; real numbers stay numbers.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from channel_analysis.early_warning.detect import ALERT_COLUMNS
from channel_analysis.text.reasons import alert_reasons, why_changed_code

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # the workbook's dates and its zip members' times, on every run


ALERTS_CSV = [*(c for c in ALERT_COLUMNS if c != "figures"), "reason"]  # alerts.csv's columns (the contract)


def alerts_table(alerts: pd.DataFrame) -> pd.DataFrame:
    """The month's alerts → ``alerts.csv``'s columns: each alert's figures said in English (``reason``)."""
    return alerts.assign(reason=alert_reasons(alerts, "en") if len(alerts) else pd.Series(dtype=object))[ALERTS_CSV]


def health_table(health: pd.DataFrame) -> pd.DataFrame:
    """Dealer health → ``dealer_health.csv``'s columns: what moved each score in the CSV's code form
    (``why_changed``: ``recency -12, level -3``)."""
    shown = health.assign(moved=health["moved"].map(why_changed_code) if len(health) else health["moved"])
    return shown.rename(columns={"moved": "why_changed"})


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Frame → the same frame with every text cell that a spreadsheet would run prefixed by ``'``."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col].dtype) or out[col].dtype == object:
            values = out[col]
            is_text = values.map(lambda v: isinstance(v, str))
            risky = is_text & values.astype("str").str.startswith(_FORMULA_START)
            if risky.any():
                out[col] = values.where(~risky, "'" + values.astype("str"))
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV the same way every time: UTF-8, LF, no index, floats to 12 significant digits.

    The engine sums floats in parallel, in no fixed order, so the last bits of a sum can differ
    between two runs on the same data; 12 digits keep every figure and drop that noise, so a
    rerun writes the same bytes."""
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8", float_format="%.12g")


def write_action_list(alerts: pd.DataFrame, folder: Path) -> None:
    """``alerts.csv`` and ``alerts.xlsx``, formulas neutralised, text stored as text."""
    safe = neutralise_formulas(alerts)
    write_csv(safe, folder / "alerts.csv")
    write_xlsx(safe, folder / "alerts.xlsx", sheet="alerts")


def write_xlsx(frame: pd.DataFrame, path: Path, *, sheet: str) -> None:
    """One sheet; strings are stored as strings (never formulas); the same bytes on every rerun."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append([None if _missing(v) else (v.item() if hasattr(v, "item") else v) for v in row])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for i, col in enumerate(frame.columns, start=1):
        width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, width + 2))
    ws.freeze_panes = "A2"
    fixed = pd.Timestamp(*_FIXED_TIME[:3]).to_pydatetime()
    wb.properties.created = wb.properties.modified = fixed
    # Workbook.save would stamp "modified" with the clock: the writer it calls, without that
    with _FixedTimeZip(path, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()


class _FixedTimeZip(zipfile.ZipFile):
    """A zip archive whose members all carry one fixed time (``writestr`` stamps them with the
    clock, ``write`` with the file's time; openpyxl writes each sheet through a temporary file)."""

    def write(self, filename, arcname=None, *args, **kwargs):
        self.writestr(arcname or Path(filename).name, Path(filename).read_bytes(), *args, **kwargs)

    def writestr(self, zinfo_or_arcname, data, *args, **kwargs):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=_FIXED_TIME)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16  # as writestr gives a member named by a string
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)


def _missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
