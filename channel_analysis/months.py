"""Report months: the month M a run or a metric is about, cutting validated tables to what
was known at its end, and cutting a computed dealer × month panel back to an earlier month.

Plain pandas, so that the metrics and the report notebooks can use it without loading the
panel's engine (Ibis and DuckDB).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pandas as pd

from channel_analysis import schema
from channel_analysis.errors import ParameterError

P = schema.Panel


@dataclass(frozen=True)
class Month:
    """A report month M: its label and its first and last day."""

    label: str

    @classmethod
    def parse(cls, value: str) -> "Month":
        # [0-9], not \d: "２０２５-06" must not name a folder of its own
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
            raise ParameterError(f"month {value!r} is not a month: write it as YYYY-MM, e.g. 2026-10")
        return cls(value)

    @property
    def period(self) -> pd.Period:
        return pd.Period(self.label, freq="M")

    @property
    def start(self) -> pd.Timestamp:
        return self.period.start_time

    @property
    def end(self) -> pd.Timestamp:
        """The last day of the month (a date; rows on that day count as in the month)."""
        return self.period.end_time.normalize()

    def check_ended(self, today: datetime.date | None = None) -> "Month":
        """This month, if it has ended by ``today`` (default: the clock's); else ParameterError:
        a month's figures are set against whole months, so part of one reads as a fall."""
        today = today or datetime.date.today()
        if self.end.date() >= today:
            last = (pd.Period(today, freq="M") - 1).strftime("%Y-%m")
            raise ParameterError(
                f"month {self.label} has not ended (today is {today:%Y-%m-%d}): its figures would set part of a "
                f"month against whole months and read as a fall; run {last}, the last whole month, or run "
                f"{self.label} from {self.stop:%Y-%m-%d} on"
            )
        return self

    @property
    def stop(self) -> pd.Timestamp:
        """The first instant after the month: a row dated before it was known at the month's end
        (timestamps on the last day count)."""
        return self.end + pd.Timedelta(days=1)


def as_of(tables: dict[str, pd.DataFrame], month: Month) -> dict[str, pd.DataFrame]:
    """Validated tables → the same tables as seen on ``month``'s last day (later rows dropped).
    Tables that are read when first used (``report_data.PreparedTables``) cut themselves as
    they are read."""
    if hasattr(tables, "as_of"):
        return tables.as_of(month)
    out = {}
    cutoff = month.stop
    for name, frame in tables.items():
        date_col = schema.date_column(name)
        out[name] = frame[frame[date_col] < cutoff] if date_col else frame
    return out


def report_month(as_of: str | pd.Period | pd.Timestamp) -> pd.Period:
    """``"2026-10"``, a Period or a day of the month → the report month as a monthly Period."""
    return pd.Period(as_of, freq="M")


def panel_as_of(panel: pd.DataFrame, *, as_of: str | pd.Period) -> pd.DataFrame:
    """panel computed as of a later month → the same panel as of ``as_of``: its rows up to that
    month, of dealers signed by then (exact: a month's row depends only on rows dated up to that
    month, and a dealer appears from the month it signed; see :mod:`channel_analysis.panel`)."""
    month = report_month(as_of)
    index = panel[P.month].dt.year * 12 + panel[P.month].dt.month - 1
    as_of_index = month.year * 12 + month.month - 1
    cut = (index <= as_of_index) & (index - panel[P.months_since_signed] <= as_of_index)
    if cut.all():  # already as of that month (a report's panel): no copy (pandas copies on write)
        return panel.reset_index(drop=True)
    return panel.loc[cut].reset_index(drop=True)
