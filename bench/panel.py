"""Panel + KPIs at scale (100,000 dealers, 20 million orders) against two baselines, in one run.

Variants, each a fresh child process, interleaved round by round:

* ``duckdb_bare``: the bare DuckDB dealer × month aggregate over the orders' Parquet file,
  ``SELECT dealer_id, date_trunc('month', order_date) m, sum(amount), count(*) FROM
  read_parquet('orders.parquet') GROUP BY ALL``, fetched as a pandas frame;
* ``pandas_csv``: pandas ``read_csv`` of the same orders as CSV (dealer_id, order_date, amount)
  and ``groupby`` dealer × month (sum and count), the month taken as the date's first 7 characters;
* ``panel_kpis_orders``: ``dealer_month_panel`` + ``monthly_kpis`` on Ibis tables read straight
  from the Parquet files (``ibis_tables``), given dealers and orders only: the same data as the
  baselines;
* ``panel_kpis_all``: the same on every table of the source, as a monthly run computes them
  (+ 19 million interactions, 1.7 million service requests, expenses, prospects, events);
* ``kpis_all``: ``monthly_kpis`` alone on every table (the engine path of the KPIs).

Targets (from the issue): panel + KPIs at most 1.5× the bare DuckDB aggregate, at least 4×
faster than pandas, peak memory at most 2 GB.

    .venv/bin/python bench/panel.py [--repeats 3] [--only duckdb_bare,pandas_csv,kpis_all]

The world is ``bench/out/world100k`` (written once by bench/validate.py or here); the CSV copy of
its orders is written once to ``bench/out/orders_csv/orders.csv``. Results: a Markdown table on
stdout and ``bench/out/panel.json``.
"""

from __future__ import annotations

import argparse
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
VARIANTS = ["duckdb_bare", "pandas_csv", "panel_kpis_orders", "panel_kpis_all", "kpis_all"]


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


def panel_kpis(names: tuple[str, ...] | None, *, panel: bool = True) -> dict:
    """The pipeline's engine path: Parquet → Ibis tables in DuckDB → panel (pandas) + KPIs."""
    import ibis

    from channel_analysis.metrics.kpis import monthly_kpis
    from channel_analysis.panel import dealer_month_panel, ibis_tables

    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")
    tables = ibis_tables(common.WORLD, con=con)
    if names is not None:
        tables = {name: tables[name] for name in names}
    started = time.perf_counter()
    rows = len(dealer_month_panel(tables, as_of=AS_OF)) if panel else 0
    panel_s = time.perf_counter() - started
    kpis = monthly_kpis(tables, as_of=AS_OF)
    return {"rows_out": rows or len(kpis), "panel_s": panel_s, "kpis_s": time.perf_counter() - started - panel_s}


RUNS = {
    "duckdb_bare": duckdb_bare,
    "pandas_csv": pandas_csv,
    "panel_kpis_orders": lambda: panel_kpis(("dealers", "orders")),
    "panel_kpis_all": lambda: panel_kpis(None),
    "kpis_all": lambda: panel_kpis(None, panel=False),
}


# Imported before the clock starts: the timings compare work, not Python start-up.
IMPORTS = {
    "duckdb_bare": ["duckdb"],
    "pandas_csv": ["pandas"],
    **dict.fromkeys(
        ["panel_kpis_orders", "panel_kpis_all", "kpis_all"],
        ["ibis", "channel_analysis.panel", "channel_analysis.metrics.kpis"],
    ),
}


def child(name: str) -> None:
    for module in IMPORTS[name]:
        importlib.import_module(module)
    started = time.perf_counter()
    result = RUNS[name]()
    common.child_result(result | {"seconds": time.perf_counter() - started})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="comma-separated variants (duckdb_bare and pandas_csv are always run)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    variants = VARIANTS if not args.only else [v for v in VARIANTS if v in {"duckdb_bare", "pandas_csv", *args.only.split(",")}]
    facts = common.machine()
    common.ensure_worlds()
    ensure_csv()
    results = common.measure(__file__, variants, args.repeats)
    med = {name: common.median(runs, "seconds") for name, runs in results.items()}
    peak = {name: max(r["peak_rss_mb"] for r in runs) for name, runs in results.items()}
    print("\n| variant | rows out | seconds (median) | × bare DuckDB | pandas ÷ this | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in variants:
        print(
            f"| {name} | {results[name][0]['rows_out']:,} | {med[name]:.2f} | {med[name] / med['duckdb_bare']:.2f} | "
            f"{med['pandas_csv'] / med[name]:.2f} | {peak[name] / 1024:.2f} GB |"
        )
    for name in [v for v in variants if v not in ("duckdb_bare", "pandas_csv")]:
        split = f"panel {common.median(results[name], 'panel_s'):.2f} s + KPIs {common.median(results[name], 'kpis_s'):.2f} s"
        print(f"\n{name}: {split}; targets: ≤ 1.5× bare {'met' if med[name] <= 1.5 * med['duckdb_bare'] else 'NOT met'}, "
              f"≥ 4× faster than pandas {'met' if med['pandas_csv'] >= 4 * med[name] else 'NOT met'}, "
              f"≤ 2 GB {'met' if peak[name] <= 2048 else 'NOT met'}")
    summary = {"median_s": med, "peak_rss_mb": peak, "bare_sql": BARE_SQL, "as_of": AS_OF}
    path = common.save("panel" if variants == VARIANTS else "panel_" + "_".join(variants[2:]), {"machine": facts, "repeats": args.repeats, "summary": summary, "runs": results})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
