"""What every validation engine shares: the counts of a validated source, the table-level
problems that make a source unusable, ``--strict``, and the ids left only in quarantine.
"""

from __future__ import annotations

import pandas as pd

from channel_analysis import schema
from channel_analysis.errors import StrictModeError

SOURCE_ROW, REASON = "source_row", "reason"


class Counted:
    """Counts shared by every validated source (``quarantine``, ``rows_read`` by table)."""

    quarantine: dict[str, pd.DataFrame]
    rows_read: dict[str, int]

    @property
    def quarantined_total(self) -> int:
        return sum(len(q) for q in self.quarantine.values())

    def accepted_rows(self, name: str) -> int:
        return self.rows_read[name] - len(self.quarantine[name])


def table_problems(location: str, columns: dict[str, tuple[str, list]]) -> list[str]:
    """Every table-level problem of a source: ``columns`` is table → (origin, its column names)."""
    problems = []
    for name in schema.REQUIRED_TABLES:
        if name not in columns:
            problems.append(
                f"table '{name}' is missing from {location}: it is required; "
                f"add {name}.csv (or .parquet/.xlsx, or a table named {name})"
            )
    for name, (origin, names) in columns.items():
        missing = [c for c in schema.required_columns(name) if c not in names]
        for col in missing:
            found = ", ".join(map(str, names)) or "no columns"
            problems.append(
                f"{origin}: column '{col}' of table '{name}' is missing (found: {found}); "
                f"add it or rename the matching column to '{col}'"
            )
    return problems


def refuse_quarantine(quarantine: dict[str, pd.DataFrame]) -> None:
    """--strict: StrictModeError when any row was quarantined."""
    total = sum(len(q) for q in quarantine.values())
    if total:
        counts = ", ".join(f"{n}: {len(q)}" for n, q in quarantine.items() if len(q))
        raise StrictModeError(
            f"--strict: {total} rows were quarantined ({counts}); "
            "fix them (see quarantine/ from `channel-analysis validate --out DIR`) or run without --strict"
        )


def keys_only_quarantined(name: str, good: pd.DataFrame, bad: pd.DataFrame) -> set:
    """Ids of ``name`` found only among its quarantined rows (a later duplicate of an accepted id is not)."""
    key = schema.key_of(name)
    if len(key) != 1 or key[0] not in bad or bad.empty:
        return set()
    ids = bad[key[0]].dropna()
    return set(ids[~ids.isin(good[key[0]])])
