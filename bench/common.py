"""Shared helpers of the benchmarks: cached demo worlds, child-process runs, medians, machine facts.

Each measured run happens in a fresh child process (``python bench/X.py --child NAME``), so
that its peak memory (``ru_maxrss`` of the child itself) and its timing are not disturbed by
earlier runs. Variants are interleaved round by round, so that noise from other processes on
the machine spreads over all of them; ratios compare medians taken in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"  # git-ignored
DEMO = OUT / "demo"  # the default demo world: 1,000 dealers, CSV
WORLD = OUT / "world100k"  # 100,000 dealers, 2021-11..2026-10, Parquet
WORLD_ARGS = {"dealers": 100_000, "start": "2021-11", "end": "2026-10", "fmt": "parquet"}


def ensure_worlds(*, big: bool = True) -> None:
    """Write the demo world and (with ``big``) the 100k-dealer world once; reuse them afterwards."""
    from channel_analysis.synthetic import write_demo_data

    if not (DEMO / "orders.csv").exists():
        write_demo_data(DEMO)
    if big and not (WORLD / "orders.parquet").exists():
        print(f"writing the 100,000-dealer world to {WORLD} (once; about 35 s CPU) ...", flush=True)
        write_demo_data(WORLD, **WORLD_ARGS)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB: ``VmHWM``, the high-water mark of its
    own memory since exec. Not ``ru_maxrss``: a child started by ``subprocess`` inherits its
    parent's peak in it (a parent that wrote a world would make every child look as large)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def cpu_seconds() -> float:
    """CPU time of this process so far (user + system, all threads), in seconds: on a machine
    shared with other work it grows far less than the wall time does."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def parser(doc: str) -> argparse.ArgumentParser:
    """The command line of a benchmark whose variants run in child processes: ``--repeats`` (rounds
    measured) and the hidden ``--child NAME`` (one variant, in the child); add the script's own."""
    out = argparse.ArgumentParser(description=doc.splitlines()[0])
    out.add_argument("--repeats", type=int, default=3)
    out.add_argument("--child", help=argparse.SUPPRESS)
    return out


def child_result(payload: dict) -> None:
    """Print a child's result as the last line of its output, with its peak memory."""
    print(json.dumps(payload | {"peak_rss_mb": peak_rss_mb()}), flush=True)


def run_child(script: str, name: str, args: tuple[str, ...] = ()) -> dict:
    """Run ``script --child name *args`` in a new Python process; its result dict plus ``wall_s``."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, script, "--child", name, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"wall_s": time.perf_counter() - started}


def measure(script: str, names: list[str], repeats: int, args: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """``repeats`` rounds, each running every variant once in a child (given ``args`` too):
    name → list of results."""
    results: dict[str, list[dict]] = {name: [] for name in names}
    for round_ in range(1, repeats + 1):
        for name in names:
            result = run_child(script, name, args)
            results[name].append(result)
            print(f"  round {round_}: {name:<28} {result['seconds']:8.2f} s  peak {result['peak_rss_mb']:8.0f} MB", flush=True)
    return results


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    versions = {}
    for package in ("pandas", "pyarrow", "duckdb", "ibis-framework", "pandera", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def save(name: str, payload: dict) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path
