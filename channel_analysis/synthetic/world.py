"""The demo world as a whole: a synthetic dealer network in the data contract's shape, with its planted truth.

``generate_world(dealers=, start=, end=, seed=)`` → :class:`World` (the nine contract tables and
the truth as pandas frames); ``write_demo_data(out, ...)`` writes the same world to
``out/<table>.csv|parquet`` and the truth to the sibling folder ``<out>.truth/``.

How the world is built, in order, one module per stage:

1. **Network** (all in memory, one row per dealer / manager): the period's days and seasons
   (:mod:`.calendar`); provinces as regions, sales managers of varying diligence, dealers signed
   over the years and throughout the period (ids follow the signing date), their order profile
   (tier, parts and machine order rates, rhythm, sparse orderers) (:mod:`.network`); planted
   problems and regional downturns (:mod:`.planted`); events and who attended them (:mod:`.events`).
2. **Activity** (orders, interactions, service requests: :mod:`.orders`, :mod:`.activity`),
   generated per chunk of dealers from dealer × month matrices so that 100,000 dealers stay near
   1 GB of memory; each chunk has its own random stream, so the output is byte-identical per seed
   whatever is done with it.
3. **Books** (events and attendance, expenses, prospects: :mod:`.business`), from the network.

Columns become arrow tables (:mod:`.arrow`), written as files with the truth beside them
(:mod:`.output`). Every random draw comes from ``numpy.random.Generator`` streams keyed by
(seed, part, chunk).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from channel_analysis import schema
from channel_analysis.errors import ParameterError
from channel_analysis.synthetic.arrow import _empty, _to_pandas
from channel_analysis.synthetic.calendar import CNY_DATES, MIN_DEALERS, MIN_MONTHS
from channel_analysis.synthetic.network import _build_network
from channel_analysis.synthetic.output import (
    CHUNK_DEALERS,
    _check_no_other_format,
    _params,
    _table_chunks,
    _truth_frames,
    _write_table,
    _write_truth,
)
from channel_analysis.synthetic.planted import PATTERNS

__all__ = [
    "CHUNK_DEALERS",
    "CNY_DATES",
    "DEMO_DEFAULT_DEALERS",
    "DEMO_DEFAULT_END",
    "DEMO_DEFAULT_FORMAT",
    "DEMO_DEFAULT_SEED",
    "DEMO_DEFAULT_START",
    "DEMO_FORMATS",
    "MIN_DEALERS",
    "MIN_MONTHS",
    "PATTERNS",
    "World",
    "generate_world",
    "truth_dir_for",
    "write_demo_data",
]

DEMO_DEFAULT_DEALERS = 1000
DEMO_DEFAULT_START = "2023-01"
DEMO_DEFAULT_END = "2026-10"
DEMO_DEFAULT_SEED = 7
DEMO_DEFAULT_FORMAT = "csv"
DEMO_FORMATS = ("csv", "parquet")


@dataclass
class World:
    """A generated demo world: ``tables`` in the contract's shape, ``truth`` planted in it.

    ``tables``: table name → frame with the contract's columns (dates as datetime64, ids as text).
    ``truth``: ``planted_problems``, ``regional_downturns``, ``dealer_profiles``,
    ``sales_manager_profiles``. ``params``: what ``world.json`` holds.
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    params: dict = field(default_factory=dict)


def generate_world(
    *,
    dealers: int = DEMO_DEFAULT_DEALERS,
    start: str = DEMO_DEFAULT_START,
    end: str = DEMO_DEFAULT_END,
    seed: int = DEMO_DEFAULT_SEED,
) -> World:
    """Generate the demo world in memory (the same data ``write_demo_data`` writes)."""
    net = _build_network(dealers, start, end, seed)
    tables = {}
    for name in schema.TABLES:
        chunks = list(_table_chunks(net, name))
        tables[name] = _to_pandas(pa.concat_tables(chunks) if chunks else _empty(name))
    counts = {name: len(frame) for name, frame in tables.items()}
    return World(tables=tables, truth=_truth_frames(net), params=_params(net, counts))


def write_demo_data(
    out: str | Path,
    *,
    dealers: int = DEMO_DEFAULT_DEALERS,
    start: str = DEMO_DEFAULT_START,
    end: str = DEMO_DEFAULT_END,
    seed: int = DEMO_DEFAULT_SEED,
    fmt: str = DEMO_DEFAULT_FORMAT,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write a synthetic source into `out` (one file per table: <table>.csv or .parquet) and its planted truth
    beside it, in the sibling folder `<out>.truth/` (never inside `out`). Returns the truth folder path."""
    if fmt not in DEMO_FORMATS:
        raise ParameterError(f"unknown demo-data format {fmt!r}: use one of {', '.join(DEMO_FORMATS)}")
    out = Path(out).resolve()
    truth_dir = truth_dir_for(out)
    _check_no_other_format(out, fmt)
    say = progress or (lambda message: None)
    net = _build_network(dealers, start, end, seed)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in schema.TABLES:
        counts[name] = _write_table(out / f"{name}.{fmt}", _table_chunks(net, name), name, fmt)
        say(f"{name}: {counts[name]:,} rows")
    _write_truth(truth_dir, net, counts)
    say(f"truth: {truth_dir}")
    return truth_dir


def truth_dir_for(out: str | Path) -> Path:
    """The truth folder of a demo source: the sibling ``<out>.truth/``."""
    out = Path(out).resolve()
    return out.with_name(out.name + ".truth")
