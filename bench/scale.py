"""The command line at 100,000 dealers: ``validate`` and ``backtest`` of one month, against bare
DuckDB baselines over the same Parquet files, in one run.

Variants, each a fresh child process, interleaved round by round:

* ``duckdb_scan``: the bare-engine baseline of validation. DuckDB reads every column of every
  table once (``count`` of each column and ``count(DISTINCT)`` of each id), which is the least
  any check of every cell must do;
* ``validate``: ``channel-analysis validate --data WORLD`` (in-process, as the command runs it):
  the source holds more than 5 million rows, so it is validated a million rows at a time;
* ``duckdb_bare``: the bare dealer × month aggregate of ``bench/panel.py`` (orders only);
* ``backtest``: ``channel-analysis backtest --data WORLD --months 2026-10..2026-10 --out …``:
  validation, then the KPIs, the panel (to a file) and the early warning from the accepted files;
* ``run`` (with ``--run``): ``channel-analysis run --month 2026-10``, the whole monthly run.

    .venv/bin/python bench/scale.py [--repeats 3] [--run]

Peak memory is the child's own ``ru_maxrss`` plus, for ``run``, that of its largest notebook
kernel (``RUSAGE_CHILDREN``). Results: a Markdown table on stdout and ``bench/out/scale.json``.
"""

from __future__ import annotations

import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py)

MONTH = "2026-10"
OUTPUT = common.OUT / "scale"  # the commands' --out (emptied before each run)
TARGET_GB = 4.0


def duckdb_scan() -> dict:
    import duckdb

    from channel_analysis import schema

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    rows = 0
    for path in sorted(common.WORLD.glob("*.parquet")):
        names = [c for c in con.sql(f"SELECT * FROM read_parquet('{path}') LIMIT 0").columns]
        key = schema.key_of(path.stem) if path.stem in schema.TABLES else ()
        counts = [f'count("{c}")' for c in names] + [f'count(DISTINCT "{k}")' for k in key if len(key) == 1]
        rows += con.execute(f"SELECT count(*), {', '.join(counts)} FROM read_parquet('{path}')").fetchone()[0]
    return {"rows": rows}


def duckdb_bare() -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    sql = (
        "SELECT dealer_id, date_trunc('month', order_date) m, sum(amount), count(*) "
        f"FROM read_parquet('{common.WORLD / 'orders.parquet'}') GROUP BY ALL"
    )
    return {"rows": len(con.sql(sql).df())}


def command(*args: str) -> dict:
    from channel_analysis.cli import main

    shutil.rmtree(OUTPUT, ignore_errors=True)
    status = main(list(args))
    if status:
        raise SystemExit(f"channel-analysis {' '.join(args)} ended with status {status}")
    kernels = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"kernel_peak_mb": kernels}


RUNS = {
    "duckdb_scan": duckdb_scan,
    "validate": lambda: command("validate", "--data", str(common.WORLD), "--out", str(OUTPUT)),
    "duckdb_bare": duckdb_bare,
    "backtest": lambda: command("backtest", "--data", str(common.WORLD), "--months", f"{MONTH}..{MONTH}",
                                "--out", str(OUTPUT)),
    "run": lambda: command("run", "--data", str(common.WORLD), "--month", MONTH, "--out", str(OUTPUT)),
}
IMPORTS = {"duckdb_scan": "duckdb", "duckdb_bare": "duckdb"}
BASELINE = {"validate": "duckdb_scan", "backtest": "duckdb_bare", "run": "duckdb_bare"}


def child(name: str) -> None:
    __import__(IMPORTS.get(name, "channel_analysis.cli"))  # before the clock: work, not start-up
    started, cpu = time.perf_counter(), common.cpu_seconds()
    result = RUNS[name]()
    common.child_result(result | {"seconds": time.perf_counter() - started, "cpu_s": common.cpu_seconds() - cpu})


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--run", action="store_true", help="also the whole monthly run")
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    facts = common.machine()
    common.ensure_worlds()
    variants = ["duckdb_scan", "validate", "duckdb_bare", "backtest"] + (["run"] if args.run else [])
    results = common.measure(__file__, variants, args.repeats)
    med = {name: common.median(runs, "seconds") for name, runs in results.items()}
    cpu = {name: common.median(runs, "cpu_s") for name, runs in results.items()}
    peak = {name: max(max(r["peak_rss_mb"], r.get("kernel_peak_mb", 0)) for r in runs) for name, runs in results.items()}
    print("\n| variant | seconds (median, range) | × its baseline | CPU s | peak memory | ≤ 4 GB |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name in variants:
        low, high = min(r["seconds"] for r in results[name]), max(r["seconds"] for r in results[name])
        base = BASELINE.get(name)
        ratio = f"{med[name] / med[base]:.1f} × {base}" if base else "baseline"
        within = "yes" if peak[name] <= TARGET_GB * 1024 else "**no**"
        print(f"| {name} | {med[name]:.1f} ({low:.1f}–{high:.1f}) | {ratio} | {cpu[name]:.1f} | "
              f"{peak[name] / 1024:.2f} GB | {within if base else ''} |")
    summary = {"median_s": med, "median_cpu_s": cpu, "peak_mb": peak, "month": MONTH}
    path = common.save("scale", {"machine": facts, "repeats": args.repeats, "summary": summary, "runs": results})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
