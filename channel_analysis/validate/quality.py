"""Data quality of a validated source: ``data_quality.csv`` (rows read, accepted, quarantined,
after the month, per table) and ``quarantine/<table>.csv``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from channel_analysis import schema
from channel_analysis.validate.memory import ValidatedSource

QUALITY_COLUMNS = ["table", "rows_read", "rows_accepted", "rows_quarantined", "rows_after_month"]


def data_quality(validated: ValidatedSource, *, month_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Validated source → one row per table given: rows read, accepted, quarantined, after the month.

    ``rows_after_month`` counts accepted rows dated after ``month_end`` by the
    table's own date; it is empty without a month (``validate``).
    """
    rows = []
    for name in validated.rows_read:
        after = pd.NA
        if month_end is not None:
            # a timestamp on the month's last day is still in the month
            cutoff = month_end.normalize() + pd.Timedelta(days=1)
            after = validated.rows_after(name, cutoff) if schema.date_column(name) else 0
        rows.append(
            {
                "table": name,
                "rows_read": validated.rows_read[name],
                "rows_accepted": validated.accepted_rows(name),
                "rows_quarantined": len(validated.quarantine[name]),
                "rows_after_month": after,
            }
        )
    out = pd.DataFrame(rows, columns=QUALITY_COLUMNS)
    out["rows_after_month"] = out["rows_after_month"].astype("Int64")
    return out


def write_quality(validated: ValidatedSource, out_dir: Path, *, month_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Write ``data_quality.csv`` and ``quarantine/<table>.csv`` (tables with quarantined rows)."""
    out_dir = Path(out_dir)
    qdir = out_dir / "quarantine"
    qdir.mkdir(parents=True, exist_ok=True)
    quality = data_quality(validated, month_end=month_end)
    quality.to_csv(out_dir / "data_quality.csv", index=False, lineterminator="\n")
    for name, bad in validated.quarantine.items():
        if len(bad):
            bad.reset_index().to_csv(qdir / f"{name}.csv", index=False, lineterminator="\n")
    return quality
