"""Benchmark of the early warning (DOMAIN §2.3) against planted truth and two baselines.

    .venv/bin/python bench/early_warning.py                  # seeds 7 and 11, 2025-01..2026-10
    .venv/bin/python bench/early_warning.py --seed 3 --repeats 5

For each seed, in one run:

1. the demo world (1,000 dealers, 2023-01..2026-10 by default) is generated, or reused
   from ``bench/out/`` (git-ignored), validated, and turned into the dealer × month
   panel once;
2. the early warning runs for every scored month, each month seeing only its own past
   (``history_from_panel`` + ``warnings_for_months``), timed as the median of
   ``--repeats`` runs, and one month alone;
3. two baselines run on the same data and are turned into the same per-month
   ``(alerts, health)`` frames, over the same dealers:

   - *naive rule*: alert when the dealer has no order for more than 90 days on the month's
     last day, or its last 3 months' order value is under 50% of the same 3 months a year
     before; health = 100 × min(1 − days/180, value ratio), clipped to 0..1, so that
     health < 50 exactly when the rule alerts;
   - *BG/NBD*: ``lifetimes.BetaGeoFitter`` (penalizer 0.01) fitted, every month, on the
     orders up to its last day (frequency / recency / T in weeks); alert when
     P(alive) < 0.5, ``high`` when P(alive) < 0.2; health = 100 × P(alive);

4. the baselines' health also ranks the dealers: the *same volume* variants alert, each
   month, as many dealers as the early warning did, those of lowest baseline health;
5. all are scored by ``channel_analysis.early_warning.evaluate.score_backtest``
   against the planted truth, and a table (metric × method, with the targets) is printed
   and written to ``bench/out/early_warning.md``, with diagnostics of the early
   warning's alerts (by kind, false alarms, misses) for tuning, and the labelled
   dealer-months to ``bench/out/labelled-seed<S>.csv``.

The demo world is not tuned to the detectors: score more than one seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from channel_analysis import schema, synthetic  # noqa: E402
from channel_analysis.early_warning import history_from_panel, warnings_for_months  # noqa: E402
from channel_analysis.early_warning.evaluate import labelled_dealer_months, score_backtest, truth_onsets  # noqa: E402
from channel_analysis.panel import dealer_month_panel  # noqa: E402
from channel_analysis.sources.read import read_source  # noqa: E402
from channel_analysis.validate.memory import validate_source  # noqa: E402

D, O = schema.Dealers, schema.Orders
Results = dict[str, tuple[pd.DataFrame, pd.DataFrame]]  # month → (alerts, health)

DEFAULT_SEEDS = (7, 11)  # 7 is the demo default; 11 a second world, chosen before any result was seen
DEFAULT_MONTHS = "2025-01..2026-10"
NAIVE_SILENT_DAYS = 90
NAIVE_VALUE_RATIO = 0.5
BGNBD_ALIVE = 0.5  # alert when P(alive) is below this
BGNBD_ALIVE_HIGH = 0.2  # ... and call it high below this
BGNBD_PENALIZER = 0.01
BGNBD_FREQ = "W"
METHODS = ("early warning", "naive rule", "BG/NBD")
SAME_VOLUME = ("naive, same volume", "BG/NBD, same volume")  # the baselines' rankings at the early warning's volume


# --------------------------------------------------------------------------- the demo world


def _generator_hash() -> str:
    """A hash of the generator's source: cached worlds are regenerated when it changes."""
    root = Path(synthetic.__file__).parent
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(root.glob("*.py")))).hexdigest()[:8]


def demo_source(out: Path, *, seed: int, dealers: int, start: str, end: str, regenerate: bool = False) -> Path:
    """Parameters → folder of the demo source (its truth in ``<folder>.truth``), generated once and
    reused while the generator's code is unchanged."""
    folder = out / f"demo-seed{seed}-{dealers}d-{start}-{end}-{_generator_hash()}"
    truth = synthetic.truth_dir_for(folder)
    if regenerate:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(truth, ignore_errors=True)
    if (truth / "world.json").is_file() and (folder / "dealers.csv").is_file():
        return folder
    staging = folder.with_name(folder.name + ".tmp")
    for stale in (staging, synthetic.truth_dir_for(staging), folder, truth):
        shutil.rmtree(stale, ignore_errors=True)
    synthetic.write_demo_data(staging, dealers=dealers, start=start, end=end, seed=seed)
    synthetic.truth_dir_for(staging).rename(truth)
    staging.rename(folder)
    return folder


def read_truth(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Demo source folder → planted problems, regional downturns, dealer profiles."""
    truth = synthetic.truth_dir_for(folder)
    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(truth / f"{name}.csv", dtype={"dealer_id": str}, keep_default_na=False)

    return read("planted_problems"), read("regional_downturns"), read("dealer_profiles")


# --------------------------------------------------------------------------- timing


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Run ``fn`` ``repeats`` times → (median seconds, last result)."""
    times, result = [], None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), result


# --------------------------------------------------------------------------- baselines


def month_end(label: str) -> pd.Timestamp:
    return pd.Period(label, freq="M").end_time.normalize()


def _positive_orders(orders: pd.DataFrame) -> pd.DataFrame:
    out = orders.loc[orders[O.amount] > 0, [O.dealer_id, O.order_date, O.amount]].copy()
    out[O.order_date] = pd.to_datetime(out[O.order_date]).dt.normalize()
    return out


def _frames(
    universe: pd.DataFrame, month: str, alerts: pd.DataFrame, health_score: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A baseline's alerts and scores of one month → (alerts, health) shaped as ``warnings_for_months``
    gives them, over the early warning's dealers of that month (its ``lost`` ones kept lost)."""
    alerts = alerts.assign(month=month)[["month", "dealer_id", "alert", "severity", "score"]]
    lost = universe["status"].eq("lost")
    status = np.where(lost, "lost", np.where(universe["dealer_id"].isin(alerts["dealer_id"]), "at_risk", "active"))
    health = pd.DataFrame(
        {
            "month": month,
            "dealer_id": universe["dealer_id"].to_numpy(),
            "region": universe["region"].to_numpy(),
            "status": status,
            "health_score": np.where(lost, 0.0, health_score.to_numpy()),
        }
    )
    return alerts.reset_index(drop=True), health


def naive_rule(
    orders: pd.DataFrame,
    dealers: pd.DataFrame,
    universe: Mapping[str, pd.DataFrame],
    *,
    silent_days: int = NAIVE_SILENT_DAYS,
    value_ratio: float = NAIVE_VALUE_RATIO,
) -> Results:
    """orders, dealers, {month: dealers scored} → {month: (alerts, health)} of the naive rule.

    As of each month's last day: ``purchase_stop`` when the last positive order (or the
    signing, for a dealer yet to order) is more than ``silent_days`` ago; ``purchase_drop``
    when the value of positive orders in the last 3 months is under ``value_ratio`` of the
    same 3 months a year before (judged only when that year-ago value is positive). Every
    alert is ``high``. Health = 100 × min(1 − days / (2 × silent_days), ratio / (2 × value_ratio)),
    each clipped to 0..1: below 50 exactly when the rule alerts.
    """
    pos = _positive_orders(orders)
    pos["_m"] = pos[O.order_date].dt.to_period("M")
    value = pos.pivot_table(index=O.dealer_id, columns="_m", values=O.amount, aggfunc="sum", fill_value=0.0)
    signed = dealers.drop_duplicates(D.dealer_id).set_index(D.dealer_id)[D.signed_date]
    out: Results = {}
    for month, uni in universe.items():
        end, m = month_end(month), pd.Period(month, freq="M")
        ids = uni["dealer_id"]
        last = pos[pos[O.order_date] <= end].groupby(O.dealer_id)[O.order_date].max()
        since = pd.concat([ids.map(last), ids.map(signed)], axis=1).max(axis=1)
        days = (end - since).dt.days.to_numpy(dtype=float)

        def window(first: pd.Period) -> np.ndarray:
            cols = [c for c in pd.period_range(first, first + 2, freq="M") if c in value.columns]
            return value.reindex(index=ids, columns=cols).fillna(0.0).sum(axis=1).to_numpy()

        recent, year_ago = window(m - 2), window(m - 14)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(year_ago > 0, recent / year_ago, np.nan)
        stop = days > silent_days
        drop = ratio < value_ratio  # NaN compares False
        s_days = np.clip(1 - days / (2 * silent_days), 0, 1)
        s_ratio = np.clip(np.nan_to_num(ratio / (2 * value_ratio), nan=1.0), 0, 1)
        score = pd.Series(100 * np.minimum(s_days, s_ratio))
        keep = ~uni["status"].eq("lost").to_numpy()
        alerts = pd.concat(
            [
                pd.DataFrame({"dealer_id": ids[stop & keep], "alert": "purchase_stop", "score": days[stop & keep]}),
                pd.DataFrame(
                    {"dealer_id": ids[drop & keep], "alert": "purchase_drop", "score": 100 * (1 - ratio[drop & keep])}
                ),
            ],
            ignore_index=True,
        ).assign(severity="high")
        out[month] = _frames(uni, month, alerts, score)
    return out


def bgnbd(
    orders: pd.DataFrame,
    universe: Mapping[str, pd.DataFrame],
    *,
    alive: float = BGNBD_ALIVE,
    alive_high: float = BGNBD_ALIVE_HIGH,
    penalizer: float = BGNBD_PENALIZER,
    freq: str = BGNBD_FREQ,
) -> tuple[Results, pd.DataFrame]:
    """orders, {month: dealers scored} → ({month: (alerts, health)}, fitted parameters per month)
    of BG/NBD P(alive).

    Each month: ``summary_data_from_transaction_data`` over the positive orders up to its last
    day (periods of ``freq``; a dealer's first period is not a repeat), ``BetaGeoFitter`` fitted
    on them, P(alive) per dealer (1 for a dealer with no order yet: no evidence). Alert
    ``bgnbd_not_alive`` when P(alive) < ``alive``, ``high`` below ``alive_high``.
    """
    try:
        from lifetimes import BetaGeoFitter
        from lifetimes.fitters import ConvergenceError
        from lifetimes.utils import summary_data_from_transaction_data
    except ImportError as exc:
        raise SystemExit(
            f"the BG/NBD baseline needs the optional benchmark dependencies ({exc}): "
            "run .venv/bin/python -m pip install -e '.[bench]'"
        ) from None

    pos = _positive_orders(orders)
    out: Results = {}
    params = []
    for month, uni in universe.items():
        end = month_end(month)
        summary = summary_data_from_transaction_data(
            pos[pos[O.order_date] <= end], O.dealer_id, O.order_date, observation_period_end=end, freq=freq
        )
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # autograd's log(0) on the way to the optimum
            for attempt in range(3):  # lifetimes' advice when a fit does not converge: a larger penalizer
                model = BetaGeoFitter(penalizer_coef=penalizer * 10**attempt)
                try:
                    model.fit(summary["frequency"], summary["recency"], summary["T"])
                    break
                except ConvergenceError:
                    if attempt == 2:
                        raise
            p = model.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
        p_alive = uni["dealer_id"].map(pd.Series(np.asarray(p, dtype=float), index=summary.index)).fillna(1.0)
        hit = (p_alive < alive) & ~uni["status"].eq("lost")
        alerts = pd.DataFrame(
            {
                "dealer_id": uni.loc[hit, "dealer_id"],
                "alert": "bgnbd_not_alive",
                "severity": np.where(p_alive[hit] < alive_high, "high", "medium"),
                "score": (100 * (1 - p_alive[hit])).round(1),
            }
        )
        out[month] = _frames(uni, month, alerts, (100 * p_alive).round(1))
        fitted = {k: float(v) for k, v in model.params_.items()}
        params.append({"month": month, "penalizer": model.penalizer_coef, **fitted})
    return out, pd.DataFrame(params)


def same_volume(baseline: Results, reference: Results, *, seed: int = 0) -> Results:
    """A baseline's and the early warning's results → the baseline alerting, each month, as many dealers
    as the early warning did: those with the lowest baseline health (ties broken at random, seeded).
    The health is the baseline's own; every alert is ``high``. Compares the rankings at equal effort."""
    rng = np.random.default_rng(seed)
    out: Results = {}
    for month, (_, health) in baseline.items():
        ref_alerts, ref_health = reference[month]
        scored = ref_health.loc[ref_health["status"] != "lost", "dealer_id"]
        k = int(ref_alerts["dealer_id"].drop_duplicates().isin(scored).sum())
        live = health[health["status"] != "lost"]
        order = np.lexsort((rng.random(len(live)), live["health_score"].to_numpy()))
        chosen = live.iloc[order[:k]]
        alerts = pd.DataFrame({"month": month, "dealer_id": chosen["dealer_id"].to_numpy(), "alert": "lowest_health",
                               "severity": "high", "score": (100 - chosen["health_score"]).to_numpy()})
        status = np.where(health["status"].eq("lost"), "lost",
                          np.where(health["dealer_id"].isin(alerts["dealer_id"]), "at_risk", "active"))
        out[month] = (alerts, health.assign(status=status))
    return out


# --------------------------------------------------------------------------- scoring and the table


def headline(score: Mapping[str, object]) -> dict[str, object]:
    """``score_backtest`` output → metric → value (recall by pattern flattened, with counts)."""
    by = score["recall_by_pattern"].set_index("pattern")
    out = {
        "recall": (by.loc["all", "recall"], int(by.loc["all", "caught"]), int(by.loc["all", "problems"])),
    }
    for pattern in [p for p in synthetic.PATTERNS if p in by.index]:
        row = by.loc[pattern]
        out[f"recall: {pattern}"] = (row["recall"], int(row["caught"]), int(row["problems"]))
    out |= {
        "precision": score["precision"],
        "precision of high": score["precision_high"],
        "false alarms per healthy dealer-month": score["false_alarms_per_healthy_dealer_month"],
        "false alarms, January–February": score["false_alarms_jan_feb"],
        "false alarms, regional downturn": score.get("false_alarms_in_downturn", np.nan),
        "median lag (months)": score["median_lag"],
        "AUC of (100 − health)": score["auc"],
    }
    return out


FALSE_ALARMS = (
    "false alarms per healthy dealer-month",
    "false alarms, January–February",
    "false alarms, regional downturn",
)
HIGHER_IS_BETTER = {"median lag (months)": False} | {k: False for k in FALSE_ALARMS}
TARGETS: dict[str, tuple[str, Callable[[Mapping[str, object]], bool]]] = {
    "recall": ("≥ 0.80 at precision ≥ 0.70", lambda m: _v(m["recall"]) >= 0.80 and _v(m["precision"]) >= 0.70),
    "precision": ("≥ 0.70", lambda m: _v(m["precision"]) >= 0.70),
    "precision of high": ("≥ 0.85", lambda m: _v(m["precision of high"]) >= 0.85),
    **{k: ("≤ 0.02", lambda m, k=k: _v(m[k]) <= 0.02) for k in FALSE_ALARMS},
    "AUC of (100 − health)": ("≥ 0.90", lambda m: _v(m["AUC of (100 − health)"]) >= 0.90),
}


def _v(value: object) -> float:
    return float(value[0]) if isinstance(value, tuple) else float(value)


def _fmt(metric: str, value: object) -> str:
    if isinstance(value, tuple):
        return "–" if np.isnan(value[0]) else f"{value[0]:.2f} ({value[1]}/{value[2]})"
    if value is None or np.isnan(value):
        return "–"
    if metric.startswith("false alarms"):
        return f"{value:.4f}"
    if metric.startswith("median lag"):
        return f"{value:.1f}"
    return f"{value:.3f}" if metric.startswith("AUC") else f"{value:.2f}"


def comparison(figures: Mapping[str, Mapping[str, object]], counts: Mapping[str, int]) -> pd.DataFrame:
    """{method: headline figures} → one row per metric: each method's value, the target, whether the
    early warning meets it, and whether it beats both baselines."""
    ew = figures["early warning"]
    columns = [*METHODS, *SAME_VOLUME]
    higher_better = "better than both baselines (as specified / same volume)"
    rows = []
    for metric in ew:
        row = {"metric": metric} | {name: _fmt(metric, figures[name][metric]) for name in columns}
        target, test = TARGETS.get(metric, ("–", None))
        row["target"] = target
        row["target met"] = "–" if test is None else ("met" if test(ew) else "not met")
        higher = HIGHER_IS_BETTER.get(metric, True)
        mine = _v(ew[metric])

        def beats(names: tuple[str, ...]) -> str:
            others = [_v(figures[n][metric]) for n in names]
            if np.isnan(mine):
                return "–"
            return "yes" if all(np.isnan(o) or (mine > o if higher else mine < o) for o in others) else "no"

        row[higher_better] = f"{beats(METHODS[1:])} / {beats(SAME_VOLUME)}"
        rows.append(row)
    rows.append(
        {"metric": "alerted dealer-months", **{n: f"{counts[n]:,}" for n in columns}, "target": "–",
         "target met": "–", higher_better: "–"}
    )
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame) -> str:
    """A frame → a GitHub markdown table (no tabulate needed)."""
    cols = list(frame.columns)
    def line(values) -> str:
        return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

    lines = [line(cols), line("---" if i == 0 else "---:" for i in range(len(cols)))]
    lines += [line(row) for row in frame.itertuples(index=False)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- diagnostics


def alert_kinds(results: Results, truth: pd.DataFrame) -> pd.DataFrame:
    """{month: (alerts, health)}, truth → per alert kind and severity: alerted dealer-months, the share
    that are problem months, and false alarms (alerts on healthy dealer-months)."""
    labelled = labelled_dealer_months(results, truth).set_index(["month", "dealer_id"])["problem"]
    rows = pd.concat([a[["month", "dealer_id", "alert", "severity"]] for a, _ in results.values()], ignore_index=True)
    rows["problem"] = pd.MultiIndex.from_frame(rows[["month", "dealer_id"]]).map(labelled.to_dict().get)
    rows = rows[rows["problem"].notna()]  # alerts on lost dealers are not scored
    rows["problem"] = rows["problem"].astype(bool)
    out = rows.groupby(["alert", "severity"]).agg(alerts=("problem", "size"), on_problems=("problem", "mean"))
    out["false_alarms"] = rows.groupby(["alert", "severity"])["problem"].apply(lambda s: int((~s).sum()))
    return out.reset_index()


def misses(frame: pd.DataFrame, truth: pd.DataFrame, within: int = 2) -> pd.DataFrame:
    """Labelled dealer-months, truth → per scoreable planted problem: first alert lag, the alerts at that
    month, and whether it was caught within ``within`` months (as ``recall_by_pattern`` counts it)."""
    onsets = truth_onsets(truth)
    first, last = frame["month_number"].min(), frame["month_number"].max()
    onsets = onsets[(onsets["onset"] >= first) & (onsets["onset"] <= last - within)]
    seen = frame.groupby("dealer_id")["month_number"].max()
    onsets = onsets[onsets["dealer_id"].map(seen).fillna(-1) >= onsets["onset"]]
    hit = frame[frame["alerted"] & frame["problem"]].sort_values("lag")
    first_hit = hit.drop_duplicates("dealer_id").set_index("dealer_id")
    out = onsets.assign(
        first_lag=onsets["dealer_id"].map(first_hit["lag"]),
        first_alerts=onsets["dealer_id"].map(first_hit["alerts"]).fillna(""),
    )
    out["caught"] = out["first_lag"] <= within
    return out.reset_index(drop=True)


def false_alarm_profile(frame: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """Labelled dealer-months, dealer profiles → false-alarm rate by tier and sparse orderers."""
    healthy = frame[~frame["problem"]].merge(profiles[["dealer_id", "tier", "is_sparse"]], on="dealer_id", how="left")
    out = healthy.groupby(["tier", "is_sparse"]).agg(dealer_months=("alerted", "size"), false_alarms=("alerted", "sum"))
    out["rate"] = out["false_alarms"] / out["dealer_months"]
    return out.reset_index()


# --------------------------------------------------------------------------- the run


def _code_state() -> str:
    def git(*args: str) -> str:
        try:
            # --no-optional-locks: status must not refresh the index while someone else commits
            run = ["git", "--no-optional-locks", *args]
            return subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=5).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    rev = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line.strip()]
    return rev + (f" with uncommitted changes to {', '.join(dirty)}" if dirty else "")


def _versions() -> str:
    names = ("pandas", "numpy", "scipy", "duckdb", "ibis-framework", "lifetimes")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return f"Python {platform.python_version()}, " + ", ".join(found)


def run_seed(args: argparse.Namespace, seed: int) -> dict[str, object]:
    """Benchmark one demo world → its comparison table, timings and diagnostics (also printed)."""
    say = lambda *a: print(*a, flush=True)  # noqa: E731
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t0 = time.perf_counter()
    folder = demo_source(
        args.out, seed=seed, dealers=args.dealers, start=args.start, end=args.end, regenerate=args.regenerate
    )
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    validated = validate_source(read_source(folder))
    t_validate = time.perf_counter() - t0
    quarantined = validated.quarantined_total
    tables = validated.tables
    say(f"\n== seed {seed}: {folder.name} (ready in {t_gen:.1f} s, validated in {t_validate:.1f} s, "
        f"{sum(validated.rows_read.values()):,} rows read, {quarantined} quarantined)")
    planted, downturns, profiles = read_truth(folder)

    first, _, last = args.months.partition("..")
    months = [p.strftime("%Y-%m") for p in pd.period_range(first, last, freq="M")]
    if len(months) < 18:
        say(f"note: only {len(months)} months scored; the benchmark is meant for 18 or more")
    t0 = time.perf_counter()
    cutoff = month_end(months[-1]) + pd.Timedelta(days=1)
    seen = {name: frame[frame[schema.date_column(name)] < cutoff] if schema.date_column(name) else frame
            for name, frame in tables.items()}
    panel = dealer_month_panel(seen, as_of=months[-1])
    t_panel = time.perf_counter() - t0

    def all_months() -> Results:
        return warnings_for_months(history_from_panel(panel, tables["dealers"]), months)

    t_history, history = timed(lambda: history_from_panel(panel, tables["dealers"]), args.repeats)
    t_all, ew = timed(all_months, args.repeats)
    t_one, _ = timed(lambda: warnings_for_months(history, [months[-1]]), args.repeats)
    say(f"panel {panel.shape[0]:,} dealer-months in {t_panel:.1f} s; early warning for {len(months)} months "
        f"{t_all:.2f} s (median of {args.repeats}; history {t_history:.2f} s), one month alone {t_one:.2f} s")

    universe = {m: health[["dealer_id", "region", "status"]].reset_index(drop=True) for m, (_, health) in ew.items()}
    t0 = time.perf_counter()
    naive = naive_rule(tables["orders"], tables["dealers"], universe)
    t_naive = time.perf_counter() - t0
    t0 = time.perf_counter()
    bg, bg_params = bgnbd(tables["orders"], universe)
    t_bg = time.perf_counter() - t0
    raised = int((bg_params["penalizer"] > BGNBD_PENALIZER).sum())
    say(f"baselines: naive rule {t_naive:.1f} s, BG/NBD {t_bg:.1f} s ({len(months)} fits"
        + (f", {raised} of them with a larger penalizer to converge)" if raised else ")"))

    results = {"early warning": ew, "naive rule": naive, "BG/NBD": bg,
               SAME_VOLUME[0]: same_volume(naive, ew, seed=seed), SAME_VOLUME[1]: same_volume(bg, ew, seed=seed)}
    scores = {name: score_backtest(r, planted, downturns=downturns) for name, r in results.items()}
    figures = {name: headline(s) for name, s in scores.items()}
    counts = {name: int(labelled_dealer_months(r, planted)["alerted"].sum()) for name, r in results.items()}
    table = comparison(figures, counts)
    s = scores["early warning"]
    context = (
        f"seed {seed}: {args.dealers:,} dealers {args.start}..{args.end}, scored {months[0]}..{months[-1]} "
        f"({s['months']} months): {s['dealer_months']:,} dealer-months in the network, "
        f"{s['problem_dealer_months']:,} of them problem months; regional downturns: "
        + "; ".join(f"{d.region} {d.start_month}..{d.end_month} (×{d.factor})" for d in downturns.itertuples())
    )
    say(context)
    say(table.to_string(index=False))

    frame = labelled_dealer_months(ew, planted)
    frame.to_csv(args.out / f"labelled-seed{seed}.csv", index=False)
    kinds = alert_kinds(ew, planted)
    missed = misses(frame, planted)
    profile = false_alarm_profile(frame, profiles)
    say("\nearly warning alerts by kind:\n" + kinds.to_string(index=False))
    say("\nfalse alarms by tier and sparse orderers:\n" + profile.to_string(index=False))
    summary = missed.groupby("pattern").agg(
        problems=("caught", "size"), caught=("caught", "sum"),
        later=("first_lag", lambda s: int((s > 2).sum())), never=("first_lag", lambda s: int(s.isna().sum())),
    ).reset_index()
    say("\nplanted problems: caught within 2 months, caught later, never alerted:\n" + summary.to_string(index=False))
    return {
        "seed": seed, "context": context, "table": table, "kinds": kinds, "misses": missed, "miss_summary": summary,
        "profile": profile, "bg_params": bg_params, "quarantined": quarantined,
        "timings": {"load": load, "generate_or_reuse": t_gen, "validate": t_validate, "panel": t_panel,
                    "history": t_history, "all_months": t_all, "one_month": t_one, "months": len(months),
                    "naive": t_naive, "bgnbd": t_bg},
    }


def report(runs: list[dict[str, object]], args: argparse.Namespace, started: str) -> str:
    """Runs → the markdown written to ``<out>/early_warning.md``."""
    seeds = " ".join(str(r["seed"]) for r in runs)
    lines = [
        "# Early warning benchmark",
        "",
        f"Figures from `bench/early_warning.py`, run {started} on code {_code_state()}; {_versions()}.",
        f"Reproduce: `.venv/bin/python bench/early_warning.py --seed {seeds} --months {args.months}`.",
        "",
        "Baselines: naive rule = no order for more than 90 days, or last 3 months' order value under 50% of the "
        "same 3 months a year before (every alert high); BG/NBD = `lifetimes` BetaGeoFitter (penalizer 0.01, weekly "
        "periods) refitted each month on the orders to its end, alert when P(alive) < 0.5, high when < 0.2. "
        "The two *same volume* columns rank the dealers by each baseline's health and alert, each month, as "
        "many of the lowest as the early warning alerted: the baselines' judgement at equal effort for the "
        "sales managers (their AUC is the baseline's own). Recall counts an alert in months onset … onset + 2; "
        "precision and false alarms are per dealer-month; definitions in `docs/early_warning.md`.",
    ]
    for r in runs:
        t = r["timings"]
        lines += [
            "",
            f"## Seed {r['seed']}",
            "",
            r["context"] + ".",
            "",
            markdown(r["table"]),
            "",
            f"Timings (2-core machine, load average {t['load']:.1f} at the start): early warning for "
            f"{t['months']} months {t['all_months']:.2f} s "
            f"(median of {args.repeats}, history matrices {t['history']:.2f} s of it), one month alone "
            f"{t['one_month']:.2f} s; panel {t['panel']:.1f} s; validation {t['validate']:.1f} s; "
            f"baselines: naive rule {t['naive']:.1f} s, BG/NBD {t['bgnbd']:.1f} s.",
            "",
            "Early warning alerts by kind (dealer-months):",
            "",
            markdown(r["kinds"].assign(on_problems=r["kinds"]["on_problems"].round(2))),
            "",
            "Planted problems: caught within 2 months, first alert later, never alerted:",
            "",
            markdown(r["miss_summary"]),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, nargs="+", default=list(DEFAULT_SEEDS), help="demo world seeds [7 11]")
    parser.add_argument("--dealers", type=int, default=synthetic.DEMO_DEFAULT_DEALERS)
    parser.add_argument("--start", default=synthetic.DEMO_DEFAULT_START, help="first month of the demo data")
    parser.add_argument("--end", default=synthetic.DEMO_DEFAULT_END, help="last month of the demo data")
    parser.add_argument("--months", default=DEFAULT_MONTHS, help="scored months, YYYY-MM..YYYY-MM")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (the median is reported)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--regenerate", action="store_true", help="write the demo worlds again")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    runs = [run_seed(args, seed) for seed in args.seed]
    text = report(runs, args, started)
    (args.out / "early_warning.md").write_text(text, encoding="utf-8")
    (args.out / "early_warning.json").write_text(
        json.dumps({str(r["seed"]): r["timings"] for r in runs}, indent=2) + "\n", encoding="utf-8"
    )
    print(f"\nwritten: {args.out / 'early_warning.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
