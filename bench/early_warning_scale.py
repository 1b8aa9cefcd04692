"""The early warning on the 100,000-dealer world: seconds for one month, from the panel.

Times, median of 3 in one process, wall and CPU (user + system time of this process: on a
machine shared with other work it leaves out the waits for a core): the history matrices from
the panel; the signals of one month; and ``warnings_for_months`` for one month (which scores
the month before too, so that the health table says what moved each score), history included.

    .venv/bin/python bench/early_warning_scale.py

The world is ``bench/out/world100k`` (written once by ``bench/validate.py``).
"""

from __future__ import annotations

import statistics
import time

from common import WORLD, ensure_worlds

from channel_analysis.early_warning import history_from_panel, warnings_for_months
from channel_analysis.early_warning.signals import signals_at
from channel_analysis.panel import dealer_month_panel
from channel_analysis.sources.engine import ibis_tables

MONTH = "2026-10"


def median_seconds(work, repeats: int = 3) -> str:
    """``work`` run ``repeats`` times → "wall s  (CPU s)", medians."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return f"{statistics.median(wall):6.2f} s  (CPU {statistics.median(cpu):5.2f} s)"


def main() -> None:
    ensure_worlds(big=True)
    tables = ibis_tables(WORLD)
    dealers = tables["dealers"].to_pandas()
    panel = dealer_month_panel(tables, as_of=MONTH)
    history = history_from_panel(panel, dealers)
    print(f"panel: {len(panel):,} dealer-months of {dealers.shape[0]:,} dealers")
    print(f"history matrices             {median_seconds(lambda: history_from_panel(panel, dealers))}")
    print(f"signals of one month         {median_seconds(lambda: signals_at(history, MONTH))}")
    whole = median_seconds(lambda: warnings_for_months(history_from_panel(panel, dealers), [MONTH]))
    print(f"one month with M-1, history  {whole}   (target: 5 s)")


if __name__ == "__main__":
    main()
