"""The world → files: tables streamed chunk by chunk as CSV or Parquet, and the planted truth beside them.

``_table_chunks(net, name)`` → arrow tables in file order, ids assigned, from the stage that
makes the table; ``_write_table`` streams them into ``<table>.csv|parquet``; ``_truth_frames``
and ``_params`` → what ``<out>.truth/`` holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from channel_analysis import schema
from channel_analysis.errors import ParameterError
from channel_analysis.synthetic.activity import _SLOWDOWN, _interactions, _service_requests
from channel_analysis.synthetic.arrow import _arrow, _arrow_schema, _ids
from channel_analysis.synthetic.business import _attendance_table, _events_table, _expenses, _prospects
from channel_analysis.synthetic.calendar import CNY_DATES, _rng
from channel_analysis.synthetic.network import _TIERS, _dealer_table, _Network, _sales_managers
from channel_analysis.synthetic.orders import _EVENT_UPLIFT, _RETURN_P, _orders
from channel_analysis.synthetic.planted import CALLS_SPIKE, DECLINE, DROP, NO_REORDER, PATTERNS, STOP

CHUNK_DEALERS = 5000  # dealers per activity chunk: bounds memory, and fixes the random streams


def _table_chunks(net: _Network, name: str) -> Iterator[pa.Table]:
    """The rows of table ``name`` as arrow tables, in file order, ids assigned."""
    if name in _CHUNKED:
        make, prefix, width = _CHUNKED[name]
        next_id = 1
        for c, lo in enumerate(range(0, net.n, CHUNK_DEALERS)):
            s = slice(lo, min(lo + CHUNK_DEALERS, net.n))
            cols = make(net, s, _rng(net.seed, name, c))
            key = schema.key_of(name)[0]
            rows = len(next(iter(cols.values())))
            cols[key] = _ids(prefix, next_id, rows, width)
            next_id += rows
            yield _arrow(name, cols)
    else:
        yield _arrow(name, _WHOLE[name](net, _rng(net.seed, name)))


# Chunked tables: generator, id prefix, id width.
_CHUNKED = {
    "orders": (_orders, "O", 9),
    "interactions": (_interactions, "I", 10),
    "service_requests": (_service_requests, "R", 8),
}


_WHOLE = {
    "sales_managers": _sales_managers,
    "dealers": _dealer_table,
    "expenses": _expenses,
    "prospects": _prospects,
    "events": _events_table,
    "event_attendance": _attendance_table,
}


def _check_no_other_format(out: Path, fmt: str) -> None:
    """Refuse to leave two files for one table (say orders.csv and orders.parquet) in ``out``."""
    clash = sorted(
        str(out / f"{name}.{ext}")
        for name in schema.TABLES
        for ext in ("csv", "parquet", "xlsx")
        if ext != fmt and (out / f"{name}.{ext}").exists()
    )
    if (out / "dealer_data.xlsx").exists():
        clash.append(str(out / "dealer_data.xlsx"))
    if clash:
        raise ParameterError(
            f"{out} already holds tables in another format ({', '.join(clash)}): "
            "remove them or choose another --out, since two files for one table make a source unusable"
        )


def _write_table(path: Path, chunks: Iterator[pa.Table], name: str, fmt: str) -> int:
    """Stream ``chunks`` into one CSV (UTF-8, ISO dates, minute timestamps) or Parquet file; returns rows."""
    rows = 0
    target = _arrow_schema(name)
    if fmt == "parquet":
        options = {
            "compression": "zstd",
            "compression_level": 1,
            "use_dictionary": [c for c in target.names if c not in schema.key_of(name)],  # ids are unique
            "write_statistics": [schema.date_column(name)] if schema.date_column(name) else False,
        }
        with pq.ParquetWriter(path, target, **options) as writer:
            for chunk in chunks:
                writer.write_table(chunk, row_group_size=1_000_000)
                rows += chunk.num_rows
        return rows
    csv_schema = pa.schema([(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in target])
    with open(path, "wb") as sink:
        sink.write((",".join(target.names) + "\n").encode("utf-8"))
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
        with pa_csv.CSVWriter(sink, csv_schema, write_options=options) as writer:
            for chunk in chunks:
                writer.write_table(_csv_ready(chunk, csv_schema))
                rows += chunk.num_rows
    return rows


def _csv_ready(chunk: pa.Table, csv_schema: pa.Schema) -> pa.Table:
    """Timestamps as ``2026-10-31 14:05`` text; everything else as arrow writes it."""
    arrays = [
        pc.strftime(col, format="%Y-%m-%d %H:%M") if pa.types.is_timestamp(col.type) else col for col in chunk.columns
    ]
    return pa.Table.from_arrays(arrays, schema=csv_schema)


def _truth_frames(net: _Network) -> dict[str, pd.DataFrame]:
    """planted_problems, regional_downturns, dealer_profiles, sales_manager_profiles."""
    return {
        "planted_problems": _planted_frame(net),
        "regional_downturns": net.downturns.copy(),
        "dealer_profiles": _profile_frame(net),
        "sales_manager_profiles": _manager_frame(net),
    }


def _planted_frame(net: _Network) -> pd.DataFrame:
    """One row per planted dealer: dealer_id, pattern, onset_month (YYYY-MM), detail."""
    d, months = net.dealer, net.cal.months
    rows = []
    for i in np.flatnonzero(d["pattern"] >= 0):  # about 13% of dealers: a plain loop is fine
        p, onset = int(d["pattern"][i]), int(d["onset"][i])
        rows.append((d["id"][i], PATTERNS[p], str(months[onset]), _detail(net, i, p, onset)))
    return pd.DataFrame(rows, columns=["dealer_id", "pattern", "onset_month", "detail"])


def _detail(net: _Network, i: int, p: int, onset: int) -> str:
    d, months = net.dealer, net.cal.months
    level = f"{d['level'][i]:.0%}"
    if p == STOP:
        return "orders stop completely"
    if p == DROP:
        return f"orders fall to about {level} of normal"
    if p == DECLINE:
        return f"orders decline gradually to about {level} of normal over {d['length'][i]} months"
    if p == CALLS_SPIKE:
        spike = f"inbound calls x{d['spike'][i]:.1f} in {months[onset]}..{months[onset + 1]}"
        return f"{spike}; orders fall to about {level} from {months[onset + d['length'][i]]}"
    if p == NO_REORDER:
        return f"signed {d['signed'][i]}: first batch order only, never reorders"
    return f"orders stop; terminated {d['terminated'][i]}"


def _profile_frame(net: _Network) -> pd.DataFrame:
    d = net.dealer
    pattern = np.array(PATTERNS + ("",))[d["pattern"]]  # -1 picks the trailing ""
    return pd.DataFrame(
        {
            "dealer_id": d["id"],
            "region": net.regions[d["region"]],
            "tier": np.array(_TIERS)[d["tier"]],
            "sales_manager_id": np.where(d["mgr"] >= 0, net.mgr["id"][np.maximum(d["mgr"], 0)], ""),
            "signed_date": d["signed"].astype(str),
            "base_monthly_revenue": np.round(d["base_revenue"], 0),
            "order_rhythm_months": d["rhythm"],
            "is_sparse": d["sparse"],
            "parts_orders_per_month": np.round(d["parts_rate"], 3),
            "parts_order_mean": np.round(d["parts_mean"], 0),
            "machine_orders_per_month": np.round(d["machine_rate"], 4),
            "inbound_calls_per_month": np.round(d["inbound_rate"], 3),
            "ramp_months": np.round(d["ramp_tau"], 2),
            "manager_diligence": np.round(d["diligence"], 3),
            "attendance_propensity": np.round(d["health"], 3),
            "planted_pattern": pattern,
        }
    )


def _manager_frame(net: _Network) -> pd.DataFrame:
    m, d = net.mgr, net.dealer
    left = m["left"].astype(str)
    return pd.DataFrame(
        {
            "sales_manager_id": m["id"],
            "region": net.regions[m["region"]],
            "diligence": np.round(m["diligence"], 3),
            "dealers": np.bincount(d["mgr"][d["mgr"] >= 0], minlength=len(m["id"])),
            "left_date": np.where(left == "NaT", "", left),
        }
    )


def _params(net: _Network, counts: dict[str, int]) -> dict:
    """What world.json records: the parameters, row counts and the world's hidden settings."""
    planted = np.bincount(net.dealer["pattern"][net.dealer["pattern"] >= 0], minlength=len(PATTERNS))
    years = range(int(str(net.cal.months[0])[:4]), int(str(net.cal.months[-1])[:4]) + 1)
    return {
        "generator": "channel_analysis.synthetic",
        "seed": int(net.seed),
        "dealers": int(net.n),
        "start": net.start,
        "end": net.end,
        "counts": counts,
        "planted_problems": dict(zip(PATTERNS, planted.tolist(), strict=True)),
        "regions": net.regions.tolist(),
        "sales_managers": int(len(net.mgr["id"])),
        "cny_dates": [CNY_DATES[y] for y in years],
        "slow_departments": list(net.slow_departments),
        "slow_department_factor": _SLOWDOWN,
        "event_order_uplift": {"factor": 1 + _EVENT_UPLIFT, "months_after": 3},
        "prospect_conversion": round(net.conversion, 4),
        "return_share_of_parts_orders": _RETURN_P,
    }


def _write_truth(truth_dir: Path, net: _Network, counts: dict[str, int]) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in _truth_frames(net).items():
        frame.to_csv(truth_dir / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
    text = json.dumps(_params(net, counts), ensure_ascii=False, indent=2)
    (truth_dir / "world.json").write_text(text + "\n", encoding="utf-8")
