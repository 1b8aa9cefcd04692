"""Rows per second of ``channel-analysis validate`` (read_source + validate_source).

Two sources: the default demo world (1,000 dealers, CSV, ``bench/out/demo``) and a world of
100,000 dealers over five years (Parquet, ``bench/out/world100k``, about 46 million rows;
written once, then reused). Each run is a fresh child process; the median of the repeats is
reported with the child's peak resident memory.

    .venv/bin/python bench/validate.py [--repeats 3]

Results: printed as a Markdown table and saved to ``bench/out/validate.json``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py)

SOURCES = {"demo (1,000 dealers, CSV)": common.DEMO, "100,000 dealers (Parquet)": common.WORLD}


def child(name: str) -> None:
    """One measured run: read and validate the source, as `channel-analysis validate` does."""
    from channel_analysis.sources.read import read_source
    from channel_analysis.validate.memory import validate_source

    started = time.perf_counter()  # after the imports: the timing compares work, not start-up
    source = read_source(SOURCES[name])
    read = time.perf_counter()
    validated = validate_source(source)
    done = time.perf_counter()
    common.child_result(
        {
            "seconds": done - started,
            "read_s": read - started,
            "validate_s": done - read,
            "rows": sum(validated.rows_read.values()),
            "quarantined": validated.quarantined_total,
        }
    )


def main() -> None:
    parser = common.parser(__doc__)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    facts = common.machine()
    common.ensure_worlds()
    results = common.measure(__file__, list(SOURCES), args.repeats)
    print("\n| source | rows | seconds (median) | read / validate s | rows/s | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    summary = {}
    for name, runs in results.items():
        rows, seconds = runs[0]["rows"], common.median(runs, "seconds")
        summary[name] = {
            "rows": rows,
            "seconds": seconds,
            "read_s": common.median(runs, "read_s"),
            "validate_s": common.median(runs, "validate_s"),
            "rows_per_s": rows / seconds,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "quarantined": runs[0]["quarantined"],
        }
        s = summary[name]
        print(
            f"| {name} | {rows:,} | {seconds:.2f} | {s['read_s']:.2f} / {s['validate_s']:.2f} | "
            f"{s['rows_per_s']:,.0f} | {s['peak_rss_mb'] / 1024:.2f} GB |"
        )
    path = common.save("validate", {"machine": facts, "repeats": args.repeats, "summary": summary, "runs": results})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
