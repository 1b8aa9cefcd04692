"""Panel + KPIs at scale (100,000 dealers, 20 million orders) against two baselines, in one run.

Variants, each a fresh child process, interleaved round by round:

* ``duckdb_bare``: the bare DuckDB dealer × month aggregate over the orders' Parquet file,
  ``SELECT dealer_id, date_trunc('month', order_date) m, sum(amount), count(*) FROM
  read_parquet('orders.parquet') GROUP BY ALL``, fetched as a pandas frame;
* ``pandas_csv``: pandas ``read_csv`` of the same orders as CSV (dealer_id, order_date, amount)
  and ``groupby`` dealer × month (sum and count), the month taken as the date's first 7 characters;
* ``panel_file_kpis_orders``: the call for a source of this size: ``write_panel`` (the full
  panel, every column, zero-filled, sorted, written by DuckDB to a Parquet file) +
  ``monthly_kpis``, on Ibis tables read straight from the Parquet files (``ibis_tables``) by a
  connection with ``memory_limit`` (``--memory-limit``, 1GB), given dealers and orders only:
  the same data as the baselines;
* ``panel_file_kpis_all``: the same on every table of the source, as a monthly run computes
  them (+ 19 million interactions, 1.7 million service requests, expenses, prospects, events);
* ``panel_kpis_orders``, ``panel_kpis_all``: the same with ``dealer_month_panel``, the panel as
  one pandas frame (the call for small sources), on a connection with default settings;
* ``kpis_all``: ``monthly_kpis`` alone on every table (the engine path of the KPIs).

Targets (from the issue): panel + KPIs at most 1.5× the bare DuckDB aggregate, at least 4×
faster than pandas, peak memory at most 2 GB.

    .venv/bin/python bench/panel.py [--repeats 3] [--memory-limit 1GB] [--only panel_file_kpis_orders,kpis_all]

The world is ``bench/out/world100k`` (written once by bench/validate.py or here); the CSV copy of
its orders is written once to ``bench/out/orders_csv/orders.csv``. Results: a Markdown table on
stdout and ``bench/out/panel.json``.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py)

AS_OF = "2026-10"
ORDERS = common.WORLD / "orders.parquet"
ORDERS_CSV = common.OUT / "orders_csv" / "orders.csv"
BARE_SQL = (
    "SELECT dealer_id, date_trunc('month', order_date) m, sum(amount), count(*) "
    f"FROM read_parquet('{ORDERS}') GROUP BY ALL"
)
PANEL_FILE = common.OUT / "panel_file" / "panel.parquet"
VARIANTS = [
    "duckdb_bare",
    "pandas_csv",
    "panel_file_kpis_orders",
    "panel_file_kpis_all",
    "panel_kpis_orders",
    "panel_kpis_all",
    "kpis_all",
]


def ensure_csv() -> None:
    """The orders as CSV, written once (DuckDB's COPY: a few seconds)."""
    if not ORDERS_CSV.exists():
        import duckdb

        ORDERS_CSV.parent.mkdir(parents=True, exist_ok=True)
        tmp = ORDERS_CSV.with_suffix(".tmp")
        duckdb.sql(f"COPY (SELECT * FROM read_parquet('{ORDERS}')) TO '{tmp}' (HEADER, DELIMITER ',')")
        tmp.rename(ORDERS_CSV)


def duckdb_bare() -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    out = con.sql(BARE_SQL).df()
    return {"rows_out": len(out)}


def pandas_csv() -> dict:
    import pandas as pd

    orders = pd.read_csv(
        ORDERS_CSV,
        usecols=["dealer_id", "order_date", "amount"],
        dtype={"dealer_id": str, "order_date": str, "amount": "float64"},
    )
    month = orders["order_date"].str.slice(0, 7).rename("month")
    out = orders.groupby([orders["dealer_id"], month])["amount"].agg(["sum", "count"])
    return {"rows_out": len(out)}


def panel_kpis(names: tuple[str, ...] | None, *, panel: str | None, memory_limit: str | None = None) -> dict:
    """The pipeline's engine path: Parquet → Ibis tables in DuckDB → panel + KPIs. ``panel``:
    "file" (``write_panel``: a Parquet file), "pandas" (``dealer_month_panel``) or None (KPIs alone)."""
    import ibis
    import pyarrow.parquet as pq

    from channel_analysis.metrics.kpis import monthly_kpis
    from channel_analysis.panel import dealer_month_panel, write_panel
    from channel_analysis.sources.engine import ibis_tables

    con = ibis.duckdb.connect(**({"memory_limit": memory_limit} if memory_limit else {}))
    con.raw_sql("SET enable_progress_bar = false")
    tables = ibis_tables(common.WORLD, con=con)
    if names is not None:
        tables = {name: tables[name] for name in names}
    started = time.perf_counter()
    rows = 0
    if panel == "file":
        PANEL_FILE.unlink(missing_ok=True)
        write_panel(tables, as_of=AS_OF, path=PANEL_FILE, con=con)
        rows = pq.ParquetFile(PANEL_FILE).metadata.num_rows  # the file's footer: ~1 ms
    elif panel == "pandas":
        rows = len(dealer_month_panel(tables, as_of=AS_OF))
    panel_s = time.perf_counter() - started
    kpis = monthly_kpis(tables, as_of=AS_OF)
    return {"rows_out": rows or len(kpis), "panel_s": panel_s, "kpis_s": time.perf_counter() - started - panel_s}


MEMORY_LIMIT = "1GB"  # DuckDB's memory_limit for the write_panel variants (--memory-limit)
RUNS = {
    "duckdb_bare": duckdb_bare,
    "pandas_csv": pandas_csv,
    "panel_file_kpis_orders": lambda: panel_kpis(("dealers", "orders"), panel="file", memory_limit=MEMORY_LIMIT),
    "panel_file_kpis_all": lambda: panel_kpis(None, panel="file", memory_limit=MEMORY_LIMIT),
    "panel_kpis_orders": lambda: panel_kpis(("dealers", "orders"), panel="pandas"),
    "panel_kpis_all": lambda: panel_kpis(None, panel="pandas"),
    "kpis_all": lambda: panel_kpis(None, panel=None),
}


# Imported before the clock starts: the timings compare work, not Python start-up.
IMPORTS = {
    "duckdb_bare": ["duckdb"],
    "pandas_csv": ["pandas"],
    **dict.fromkeys(
        [name for name in VARIANTS if "kpis" in name],
        ["ibis", "pyarrow.parquet", "channel_analysis.panel", "channel_analysis.metrics.kpis"],
    ),
}


def child(name: str) -> None:
    for module in IMPORTS[name]:
        importlib.import_module(module)
    started, cpu = time.perf_counter(), common.cpu_seconds()
    result = RUNS[name]()
    common.child_result(result | {"seconds": time.perf_counter() - started, "cpu_s": common.cpu_seconds() - cpu})


def main() -> None:
    global MEMORY_LIMIT  # a child takes the parent's --memory-limit
    parser = common.parser(__doc__)
    parser.add_argument("--only", help="comma-separated variants (duckdb_bare and pandas_csv are always run)")
    parser.add_argument("--memory-limit", default=MEMORY_LIMIT, help="DuckDB memory_limit of the write_panel variants")
    args = parser.parse_args()
    if args.child:
        MEMORY_LIMIT = args.memory_limit
        return child(args.child)
    variants = VARIANTS if not args.only else [v for v in VARIANTS if v in {"duckdb_bare", "pandas_csv", *args.only.split(",")}]
    facts = common.machine()
    common.ensure_worlds()
    ensure_csv()
    results = common.measure(__file__, variants, args.repeats, ("--memory-limit", args.memory_limit))
    med = {name: common.median(runs, "seconds") for name, runs in results.items()}
    cpu = {name: common.median(runs, "cpu_s") for name, runs in results.items()}
    peak = {name: max(r["peak_rss_mb"] for r in runs) for name, runs in results.items()}
    print("\n| variant | rows out | seconds (median, range) | × bare DuckDB | pandas ÷ this | peak RSS | CPU s (median) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in variants:
        low, high = min(r["seconds"] for r in results[name]), max(r["seconds"] for r in results[name])
        print(
            f"| {name} | {results[name][0]['rows_out']:,} | {med[name]:.2f} ({low:.2f}–{high:.2f}) | "
            f"{med[name] / med['duckdb_bare']:.2f} | {med['pandas_csv'] / med[name]:.2f} | {peak[name] / 1024:.2f} GB | "
            f"{cpu[name]:.2f} |"
        )
    for name in [v for v in variants if v not in ("duckdb_bare", "pandas_csv")]:
        split = f"panel {common.median(results[name], 'panel_s'):.2f} s + KPIs {common.median(results[name], 'kpis_s'):.2f} s"
        print(f"\n{name}: {split}; targets: ≤ 1.5× bare {'met' if med[name] <= 1.5 * med['duckdb_bare'] else 'NOT met'}, "
              f"≥ 4× faster than pandas {'met' if med['pandas_csv'] >= 4 * med[name] else 'NOT met'}, "
              f"≤ 2 GB {'met' if peak[name] <= 2048 else 'NOT met'}")
    summary = {
        "median_s": med, "median_cpu_s": cpu, "peak_rss_mb": peak, "bare_sql": BARE_SQL, "as_of": AS_OF,
        "memory_limit": args.memory_limit,
    }  # fmt: skip
    path = common.save("panel" if variants == VARIANTS else "panel_" + "_".join(variants[2:]), {"machine": facts, "repeats": args.repeats, "summary": summary, "runs": results})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
