"""A PostgreSQL source at 100,000 dealers: validation inside the server, and the monthly run's
streaming of the accepted rows to files, against a bare COPY baseline, in one run.

The parent starts one throw-away PostgreSQL server (``tests/helpers/pg.py``), loads the 100,000-dealer
world into database ``world100k`` once (every table with native column types from its Parquet
types, rows in the Parquet file's order, then ``VACUUM ANALYZE``) and stops the server at the end.
Variants, each a fresh child process, interleaved round by round:

* ``copy_out``: the baseline. Every table sent whole by ``COPY (SELECT * FROM t) TO STDOUT (FORMAT
  binary)`` through psycopg, its bytes read and dropped: the least any client must do to receive
  the rows;
* ``validate``: ``validate_postgres(url)``, as ``channel-analysis validate`` and ``backtest`` do:
  the rows are counted and marked in the server, only the suspect rows fetched;
* ``validate_to_files``: ``validate_postgres(url, accepted_to=folder)``, as ``channel-analysis
  run`` does before its figures: the same, then the accepted rows of every table streamed a batch
  (100,000 rows) at a time into Parquet files (their size and rows are reported).

    .venv/bin/python bench/postgres.py [--repeats 1]

Loading dominates (about 46 million rows), so one round is the default. Seconds are the child's
wall time of the work; CPU s its own CPU time; server CPU s that of the PostgreSQL server (the
postmaster, its live processes and the backends it reaped) over the same span; peak memory the
child's own high-water resident memory (``common.peak_rss_mb``: ``VmHWM``, not ``ru_maxrss``,
which a child inherits from the parent that held the loading's buffers). Results:
Markdown tables on stdout and ``bench/out/postgres.json``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py)

DATABASE = "world100k"
URL_ENV = "BENCH_POSTGRES_URL"  # the children's database URL (the password comes in PGPASSWORD)
POSTMASTER_ENV = "BENCH_POSTGRES_PID"  # the server's postmaster, whose CPU time the children read
MIN_FREE_GB = 10  # the server's files (3.9 GB at 100k dealers), one table as CSV at a time (~2 GB), the written files
BLOCK = 8 << 20  # bytes per write of the CSV into COPY FROM STDIN


def _pg_type(arrow) -> str:
    """The PostgreSQL column type of an Arrow type (as tests/validate/test_validate_sql.py maps them)."""
    import pyarrow as pa

    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return "text"
    if pa.types.is_int64(arrow):
        return "bigint"
    if pa.types.is_int32(arrow):
        return "integer"
    if pa.types.is_float64(arrow):
        return "double precision"
    if pa.types.is_boolean(arrow):
        return "boolean"
    if pa.types.is_date32(arrow):
        return "date"
    if pa.types.is_timestamp(arrow) and arrow.tz is None:
        return "timestamp"
    raise TypeError(f"no PostgreSQL type for Arrow type {arrow}")


def load_world(server, folder: Path) -> dict:
    """Every ``folder/<table>.parquet`` → table ``<table>`` of database DATABASE, rows in the file's
    order (DuckDB writes them to a CSV file in order; COPY appends them to a new heap in order, so
    ``ctid`` order, the source_row of the contract, is the file's row order), then VACUUM ANALYZE.
    Returns rows, seconds and size on disk per table."""
    import duckdb
    import pyarrow.parquet as pq

    scratch = Path(tempfile.mkdtemp(prefix="bench-postgres-csv-"))
    duck = duckdb.connect()
    duck.execute("SET enable_progress_bar = false")
    duck.execute("SET preserve_insertion_order = true")  # the default; the row order is the contract's
    tables: dict[str, dict] = {}
    try:
        with server.connect(dbname=DATABASE, autocommit=True) as pg:
            for path in sorted(folder.glob("*.parquet")):
                name, started = path.stem, time.perf_counter()
                meta = pq.ParquetFile(path)
                fields = list(meta.schema_arrow)
                columns = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in fields)
                pg.execute(f'CREATE TABLE "{name}" ({columns})')
                csv = scratch / f"{name}.csv"
                duck.execute(f"COPY (SELECT * FROM read_parquet('{path}')) TO '{csv}' (HEADER false)")
                with pg.cursor() as cursor, cursor.copy(f'COPY "{name}" FROM STDIN (FORMAT csv)') as copy:
                    with open(csv, "rb") as data:
                        while block := data.read(BLOCK):
                            copy.write(block)
                csv.unlink()
                rows = pg.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                if rows != meta.metadata.num_rows:
                    raise RuntimeError(f"{name}: {rows} rows loaded, {meta.metadata.num_rows} in {path}")
                _check_order(pg, name, fields[0].name, meta)
                tables[name] = {"rows": rows, "load_s": time.perf_counter() - started}
                print(f"  loaded {name:<18} {rows:>12,} rows  {tables[name]['load_s']:7.1f} s", flush=True)
            started = time.perf_counter()
            pg.execute("VACUUM ANALYZE")
            vacuum = time.perf_counter() - started
            print(f"  VACUUM ANALYZE {vacuum:29.1f} s", flush=True)
            for name in tables:
                size = pg.execute("SELECT pg_total_relation_size(CAST(%s AS regclass))", [f'"{name}"']).fetchone()[0]
                tables[name]["pg_mb"] = size / 1e6
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"tables": tables, "vacuum_analyze_s": vacuum}


def _check_order(pg, name: str, first: str, meta) -> None:
    """The first and the last row in ctid order hold the Parquet file's first and last values of
    its first column (a cheap check that the rows kept their order)."""
    head = meta.read_row_group(0, columns=[first]).column(0)
    tail = meta.read_row_group(meta.num_row_groups - 1, columns=[first]).column(0)
    want = (head[0].as_py(), tail[-1].as_py())
    got = (
        pg.execute(f'SELECT "{first}" FROM "{name}" ORDER BY ctid LIMIT 1').fetchone()[0],
        pg.execute(f'SELECT "{first}" FROM "{name}" ORDER BY ctid DESC LIMIT 1').fetchone()[0],
    )
    if got != want:
        raise RuntimeError(f"{name}: rows out of order after loading: first/last {got}, in the file {want}")


def server_cpu_seconds() -> float | None:
    """CPU time of the PostgreSQL server so far: its postmaster's own, that of the processes it has
    reaped (backends of closed connections, parallel workers) and that of its live processes."""
    pid = os.environ.get(POSTMASTER_ENV)
    if not pid:
        return None
    ticks = 0
    for entry in Path("/proc").iterdir():  # the live children first, then the postmaster: never misses one
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile: counted in the postmaster's reaped time
            if fields[1] == pid:  # the parent's pid
                ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (ticks + sum(int(x) for x in fields[11:15])) / os.sysconf("SC_CLK_TCK")


def copy_out(folder: Path) -> dict:
    import psycopg

    received = 0
    with psycopg.connect(os.environ[URL_ENV]) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        for name in names:
            sql = f'COPY (SELECT * FROM "{name}") TO STDOUT (FORMAT binary)'
            with conn.cursor() as cursor, cursor.copy(sql) as copy:
                for block in copy:
                    received += len(block)
    return {"tables": len(names), "received_mb": received / 1e6}


def validate(folder: Path, *, to_files: bool = False) -> dict:
    from channel_analysis.validate.postgres import validate_postgres

    out = validate_postgres(os.environ[URL_ENV], accepted_to=folder if to_files else None)
    return {
        "rows_read": out.rows_read,
        "quarantined": {name: len(bad) for name, bad in out.quarantine.items()},
        "judged_in_database": sorted(out.judged_in_database),
        "read_whole": out.read_whole,
    }


def files_written(folder: Path) -> dict:
    """The Parquet files in ``folder``: MB and rows of each (from their metadata)."""
    import pyarrow.parquet as pq

    files = {
        path.stem: {"mb": path.stat().st_size / 1e6, "rows": pq.ParquetFile(path).metadata.num_rows}
        for path in sorted(folder.glob("*.parquet"))
    }
    if not files:
        return {}
    return {"files": files, "files_mb": sum(f["mb"] for f in files.values()),
            "rows_written": sum(f["rows"] for f in files.values())}  # fmt: skip


RUNS = {
    "copy_out": copy_out,
    "validate": validate,
    "validate_to_files": lambda folder: validate(folder, to_files=True),
}
IMPORTS = {"copy_out": "psycopg"}
BASELINE = {"validate": "copy_out", "validate_to_files": "copy_out"}


def child(name: str) -> None:
    __import__(IMPORTS.get(name, "channel_analysis.validate.postgres"))  # before the clock: work, not start-up
    folder = Path(tempfile.mkdtemp(prefix="bench-postgres-accepted-"))
    try:
        server = server_cpu_seconds()
        started, cpu = time.perf_counter(), common.cpu_seconds()
        result = RUNS[name](folder)
        seconds, cpu = time.perf_counter() - started, common.cpu_seconds() - cpu
        after = server_cpu_seconds()
        result |= files_written(folder)  # after the clock
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    server_cpu = after - server if server is not None and after is not None else None
    common.child_result(
        result | {"seconds": seconds, "cpu_s": cpu, "server_cpu_s": server_cpu, "own_peak_mb": common.peak_rss_mb()}
    )


def main() -> None:
    parser = common.parser(__doc__)
    parser.set_defaults(repeats=1)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/helpers/pg.py: a throw-away server
    from helpers.pg import start_postgres

    facts = common.machine()
    common.ensure_worlds()
    free_gb = shutil.disk_usage(tempfile.gettempdir()).free / 1e9
    print(f"free disk under {tempfile.gettempdir()}: {free_gb:.0f} GB", flush=True)
    if free_gb < MIN_FREE_GB:
        raise SystemExit(f"needs {MIN_FREE_GB} GB free under {tempfile.gettempdir()} for the server's files")
    server = start_postgres(dbname=DATABASE)
    try:
        print(f"loading {common.WORLD} into PostgreSQL database {DATABASE} ...", flush=True)
        started = time.perf_counter()
        loaded = load_world(server, common.WORLD)
        loaded["seconds"] = time.perf_counter() - started
        print(f"loaded in {loaded['seconds']:.1f} s", flush=True)
        with server.connect(dbname=DATABASE) as pg:
            settings = {s: pg.execute(f"SHOW {s}").fetchone()[0] for s in (
                "server_version", "shared_buffers", "work_mem", "max_parallel_workers_per_gather")}  # fmt: skip
        os.environ[URL_ENV] = server.url
        os.environ["PGPASSWORD"] = server.password
        os.environ[POSTMASTER_ENV] = (server.base / "data" / "postmaster.pid").read_text().split()[0]
        variants = list(RUNS)
        results = common.measure(__file__, variants, args.repeats)
    finally:
        server.stop()
    med = {name: common.median(runs, "seconds") for name, runs in results.items()}
    cpu = {name: common.median(runs, "cpu_s") for name, runs in results.items()}
    served = {name: common.median(runs, "server_cpu_s") if all(r["server_cpu_s"] is not None for r in runs) else None
              for name, runs in results.items()}  # fmt: skip
    peak = {name: max(r["own_peak_mb"] for r in runs) for name, runs in results.items()}
    rows = sum(t["rows"] for t in loaded["tables"].values())

    print(f"\nPostgreSQL {settings['server_version']}: {rows:,} rows loaded in {loaded['seconds']:.0f} s")
    print("\n| table | rows | load s | in PostgreSQL |")
    print("| --- | ---: | ---: | ---: |")
    for name, table in loaded["tables"].items():
        print(f"| {name} | {table['rows']:,} | {table['load_s']:.1f} | {table['pg_mb']:,.0f} MB |")
    print(f"| VACUUM ANALYZE | | {loaded['vacuum_analyze_s']:.1f} | |")

    print("\n| variant | seconds (median, range) | × its baseline | CPU s | server CPU s | peak memory |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in variants:
        low, high = min(r["seconds"] for r in results[name]), max(r["seconds"] for r in results[name])
        base = BASELINE.get(name)
        ratio = f"{med[name] / med[base]:.1f} × {base}" if base else "baseline"
        server_cpu = "" if served[name] is None else f"{served[name]:.1f}"
        print(f"| {name} | {med[name]:.1f} ({low:.1f}–{high:.1f}) | {ratio} | {cpu[name]:.1f} | {server_cpu} | "
              f"{peak[name] / 1024:.2f} GB |")

    written = results["validate_to_files"][-1]
    print("\n| table | rows read | quarantined | accepted rows written | file |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, file in written.get("files", {}).items():
        print(f"| {name} | {written['rows_read'][name]:,} | {written['quarantined'][name]:,} | {file['rows']:,} | "
              f"{file['mb']:,.1f} MB |")
    if "files" in written:
        print(f"| all | {sum(written['rows_read'].values()):,} | {sum(written['quarantined'].values()):,} | "
              f"{written['rows_written']:,} | {written['files_mb']:,.1f} MB |")
    if written["read_whole"]:
        whole = "; ".join(f"{t} ({why})" for t, why in written["read_whole"].items())
        print(f"\nread whole instead of judged in the server: {whole}")

    summary = {"median_s": med, "median_cpu_s": cpu, "median_server_cpu_s": served, "own_peak_mb": peak}
    path = common.save("postgres", {"machine": facts, "postgres": settings, "repeats": args.repeats,
                                    "load": loaded, "summary": summary, "runs": results})  # fmt: skip
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
