"""The demo world generator: contract rules, determinism, files, and the planted truth being visible.

Small worlds (120 dealers over 24 months) for files and rules; the default world (1,000 dealers,
2023-01..2026-10, about a second) for the statistical properties that need a few hundred dealers.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.errors import ParameterError
from channel_analysis.synthetic import (
    CNY_DATES,
    DEMO_DEFAULT_END,
    PATTERNS,
    generate_world,
    truth_dir_for,
    write_demo_data,
)

SMALL = {"dealers": 120, "start": "2024-11", "end": "2026-10", "seed": 11}
TRUTH_FILES = {
    "planted_problems.csv",
    "regional_downturns.csv",
    "dealer_profiles.csv",
    "sales_manager_profiles.csv",
    "world.json",
}
CODED = {
    ("interactions", schema.Interactions.kind): schema.INTERACTION_KINDS,
    ("interactions", schema.Interactions.direction): schema.DIRECTIONS,
    ("service_requests", schema.ServiceRequests.process): schema.PROCESSES,
    ("expenses", schema.Expenses.purpose): schema.PURPOSES,
    ("expenses", schema.Expenses.category): schema.EXPENSE_CATEGORIES,
    ("prospects", schema.Prospects.stage_reached): schema.STAGES,
    ("prospects", schema.Prospects.status): schema.PROSPECT_STATUSES,
    ("events", schema.Events.kind): schema.EVENT_KINDS,
}


@pytest.fixture(scope="module")
def small():
    return generate_world(**SMALL)


@pytest.fixture(scope="module")
def default():
    return generate_world()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "source"
    truth = write_demo_data(out, **SMALL)
    return out, truth


# --------------------------------------------------------------------------- contract rules, checked with pandas


def rule_violations(tables: dict[str, pd.DataFrame], end: str) -> list[str]:
    """Every contract rule the tables break, in words (empty: the source would validate cleanly)."""
    problems = []
    for name, model in schema.TABLES.items():
        problems += _column_problems(name, tables[name], model)
        problems += _reference_problems(name, tables)
        date_col = schema.date_column(name)
        if date_col and (tables[name][date_col] >= pd.Timestamp(end) + pd.offsets.MonthBegin(1)).any():
            problems.append(f"{name}.{date_col}: rows dated after the period")
    problems += _row_rule_problems(tables)
    return problems


def _column_problems(name: str, frame: pd.DataFrame, model) -> list[str]:
    problems = []
    columns = schema.columns_of(name)
    if list(frame.columns) != list(columns):
        problems.append(f"{name}: columns {list(frame.columns)} != contract {list(columns)}")
    for col, spec in columns.items():
        if not spec.nullable and frame[col].isna().any():
            problems.append(f"{name}.{col}: empty values")
        if spec.metadata["kind"] == schema.TEXT and (frame[col].dropna().str.strip() == "").any():
            problems.append(f"{name}.{col}: blank text")
    key = list(schema.key_of(name))
    if frame.duplicated(key).any():
        problems.append(f"{name}: duplicate {key}")
    for (table, col), allowed in CODED.items():
        if table == name and not frame[col].isin(allowed).all():
            problems.append(f"{name}.{col}: values outside {allowed}")
    return problems


def _reference_problems(name: str, tables: dict[str, pd.DataFrame]) -> list[str]:
    problems = []
    for col, (ref_table, ref_col) in schema.references(name).items():
        given = tables[name][col].dropna()
        if not given.isin(tables[ref_table][ref_col]).all():
            problems.append(f"{name}.{col}: values missing from {ref_table}.{ref_col}")
    expense_mgr = tables["expenses"][schema.Expenses.sales_manager_id].dropna()
    prospect_mgr = tables["prospects"][schema.Prospects.sales_manager_id].dropna()
    if (
        name == "expenses"
        and not expense_mgr.isin(tables["sales_managers"][schema.SalesManagers.sales_manager_id]).all()
    ):
        problems.append("expenses.sales_manager_id: unknown manager")
    if (
        name == "prospects"
        and not prospect_mgr.isin(tables["sales_managers"][schema.SalesManagers.sales_manager_id]).all()
    ):
        problems.append("prospects.sales_manager_id: unknown manager")
    return problems


def _row_rule_problems(t: dict[str, pd.DataFrame]) -> list[str]:
    d, o, sr, ex, pr, ev = (t[k] for k in ("dealers", "orders", "service_requests", "expenses", "prospects", "events"))
    D, OR, S, P = schema.Dealers, schema.Orders, schema.ServiceRequests, schema.Prospects
    signed = o[OR.dealer_id].map(d.set_index(D.dealer_id)[D.signed_date])
    checks = {
        "terminated_date before signed_date": (d[D.terminated_date] < d[D.signed_date]).any(),
        "order before signed_date - 30 days": (o[OR.order_date] < signed - pd.Timedelta(days=30)).any(),
        "order amount 0 or empty": (o[OR.amount].isna() | (o[OR.amount] == 0)).any(),
        "order quantity < 0": (o[OR.quantity] < 0).any(),
        "interaction duration < 0": (t["interactions"][schema.Interactions.duration_minutes] < 0).any(),
        "closed_at before opened_at": (sr[S.closed_at] < sr[S.opened_at]).any(),
        "satisfaction outside 1-5": (~sr[S.satisfaction].dropna().between(1, 5)).any(),
        "via_sales_manager not boolean": sr[S.via_sales_manager].isna().any()
        or sr[S.via_sales_manager].dtype != "boolean",
        "expense amount <= 0": (ex[schema.Expenses.amount] <= 0).any(),
        "status signed != stage signed": ((pr[P.status] == "signed") != (pr[P.stage_reached] == "signed")).any(),
        "closed_date missing unless open": ((pr[P.status] != "open") & pr[P.closed_date].isna()).any(),
        "closed_date before first contact": (pr[P.closed_date] < pr[P.first_contact_date]).any(),
        "signed prospect without dealer": ((pr[P.status] == "signed") & pr[P.dealer_id].isna()).any(),
        "touches or hours < 0": ((pr[P.touches] < 0) | (pr[P.hours_spent] < 0)).any(),
        "event cost < 0": (ev[schema.Events.cost] < 0).any(),
    }
    return [rule for rule, broken in checks.items() if broken]


def test_small_world_breaks_no_rule(small):
    assert rule_violations(small.tables, SMALL["end"]) == []


def test_default_world_breaks_no_rule(default):
    assert rule_violations(default.tables, DEMO_DEFAULT_END) == []


def test_rule_check_catches_broken_rows(small):
    """The checker itself can fail: break one rule per table and see each reported."""
    broken = {name: frame.copy() for name, frame in small.tables.items()}
    broken["orders"].loc[0, schema.Orders.amount] = 0.0
    prospects = broken["prospects"]
    prospects.loc[prospects.index[prospects[schema.Prospects.status] == "signed"][0], schema.Prospects.status] = "lost"
    broken["interactions"].loc[0, schema.Interactions.kind] = "Phone"
    broken["event_attendance"] = pd.concat([broken["event_attendance"], broken["event_attendance"].head(1)])
    problems = rule_violations(broken, SMALL["end"])
    assert "order amount 0 or empty" in problems
    assert "status signed != stage signed" in problems
    assert any(p.startswith("interactions.kind") for p in problems)
    assert any(p.startswith("event_attendance: duplicate") for p in problems)


def test_tables_pass_the_schema_models(small):
    for name, model in schema.TABLES.items():
        model.validate(small.tables[name], lazy=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    dealers=st.integers(20, 70),
    first=st.dates(min_value=pd.Timestamp("2020-01-01").date(), max_value=pd.Timestamp("2030-01-01").date()),
    months=st.integers(12, 36),
)
def test_any_seed_and_size_breaks_no_rule(seed, dealers, first, months):
    start = pd.Period(first, "M")
    end = min(start + months - 1, pd.Period("2032-12", "M"))
    world = generate_world(dealers=dealers, start=str(start), end=str(end), seed=seed)
    assert rule_violations(world.tables, str(end)) == []
    assert len(world.tables["dealers"]) == dealers


# --------------------------------------------------------------------------- files


def _file_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_bytes(written, tmp_path):
    out, truth = written
    again = tmp_path / "again"
    write_demo_data(again, **SMALL)
    assert _file_bytes(again) == _file_bytes(out)
    assert _file_bytes(truth_dir_for(again)) == _file_bytes(truth)


def test_different_seed_gives_different_data(written, tmp_path):
    out, _ = written
    other = tmp_path / "other"
    write_demo_data(other, **{**SMALL, "seed": SMALL["seed"] + 1})
    for name in ("dealers.csv", "orders.csv", "interactions.csv", "prospects.csv"):
        assert (other / name).read_bytes() != (out / name).read_bytes()


def test_truth_is_written_beside_the_source_not_inside(written):
    out, truth = written
    assert truth == out.with_name(out.name + ".truth")
    assert {p.name for p in out.iterdir()} == {f"{name}.csv" for name in schema.TABLES}
    assert {p.name for p in truth.iterdir()} == TRUTH_FILES


def test_world_json_records_parameters_and_counts(written, small):
    _, truth = written
    params = json.loads((truth / "world.json").read_text(encoding="utf-8"))
    assert {k: params[k] for k in SMALL} == SMALL
    assert params["counts"] == {name: len(frame) for name, frame in small.tables.items()}


def test_csv_text_is_utf8_iso_and_keeps_text_ids(written, small):
    out, _ = written
    header = (out / "orders.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(schema.columns_of("orders"))
    orders = pd.read_csv(out / "orders.csv", dtype=str, keep_default_na=False)
    assert orders[schema.Orders.order_date].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert orders[schema.Orders.dealer_id].str.fullmatch(r"D\d{5}").all()
    assert orders[schema.Orders.dealer_id].str.startswith("D0").any()  # leading zeros survive as text
    inter = pd.read_csv(out / "interactions.csv", dtype=str, keep_default_na=False)
    assert inter[schema.Interactions.occurred_at].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()
    closed = pd.read_csv(out / "service_requests.csv", dtype=str, keep_default_na=False)[
        schema.ServiceRequests.closed_at
    ]
    assert (closed == "").any() and closed[closed != ""].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()
    dealers = pd.read_csv(out / "dealers.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    assert dealers[schema.Dealers.dealer_name].tolist() == small.tables["dealers"][schema.Dealers.dealer_name].tolist()


def test_csv_holds_the_generated_world(written, small):
    out, _ = written
    orders = pd.read_csv(out / "orders.csv", dtype={schema.Orders.order_id: str, schema.Orders.dealer_id: str})
    expected = small.tables["orders"]
    assert orders[schema.Orders.order_id].tolist() == expected[schema.Orders.order_id].tolist()
    np.testing.assert_allclose(orders[schema.Orders.amount], expected[schema.Orders.amount])
    assert (pd.to_datetime(orders[schema.Orders.order_date]) == expected[schema.Orders.order_date]).all()


def test_parquet_holds_the_same_world_and_is_deterministic(tmp_path, small):
    first, second = tmp_path / "a", tmp_path / "b"
    write_demo_data(first, **SMALL, fmt="parquet")
    write_demo_data(second, **SMALL, fmt="parquet")
    assert {p.name for p in first.iterdir()} == {f"{name}.parquet" for name in schema.TABLES}
    assert _file_bytes(first) == _file_bytes(second)
    for name in ("orders", "interactions", "service_requests", "prospects"):
        got = pd.read_parquet(first / f"{name}.parquet")
        want = small.tables[name]
        assert list(got.columns) == list(want.columns)
        key = schema.key_of(name)[0]
        assert got[key].tolist() == want[key].tolist()
        date_col = schema.date_column(name)
        assert (pd.to_datetime(got[date_col]) == want[date_col]).all()


def test_refuses_to_mix_formats_in_one_folder(written):
    out, _ = written
    with pytest.raises(ParameterError, match="another format"):
        write_demo_data(out, **SMALL, fmt="parquet")


@pytest.mark.parametrize(
    "bad",
    [{"start": "2024-1"}, {"end": "2026-13"}, {"start": "2026-01", "end": "2026-06"}, {"dealers": 3}, {"seed": -1},
     {"start": "2018-01"}],
)  # fmt: skip
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ParameterError):
        generate_world(**{**SMALL, **bad})


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="parquet"):
        write_demo_data(tmp_path / "x", **SMALL, fmt="xlsx")
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- the planted truth is in the data


def _month(dates: pd.Series) -> np.ndarray:
    """Calendar month of each date, as datetime64[M] (much faster than .dt.to_period)."""
    return dates.to_numpy().astype("datetime64[M]")


def _monthly(frame: pd.DataFrame, date_col: str) -> pd.DataFrame:
    """dealer × month (PeriodIndex columns) table of row counts."""
    counts = frame.groupby([frame[schema.Orders.dealer_id], _month(frame[date_col])]).size().unstack(fill_value=0)
    counts.columns = pd.PeriodIndex(counts.columns, freq="M")
    return counts


def _before_after(table: pd.DataFrame, dealers, onsets, after: tuple[int, int], before: int = 6):
    """Summed values over the ``before`` months preceding each onset, and months onset+after[0] .. +after[1]-1."""
    total_before = total_after = 0.0
    for dealer, onset in zip(dealers, onsets, strict=True):
        row = table.loc[dealer] if dealer in table.index else pd.Series(0.0, index=table.columns)
        i = table.columns.get_loc(pd.Period(onset, "M"))
        total_before += row.iloc[max(0, i - before) : i].sum() / min(before, i)
        span = row.iloc[i + after[0] : i + after[1]]
        total_after += span.sum() / max(len(span), 1)
    return total_before, total_after


def _spearman(a: pd.Series, b: pd.Series) -> float:
    """Rank correlation without pandas' scipy import (seconds of test time)."""
    return a.rank().corr(b.rank())


@pytest.fixture(scope="module")
def parts_counts(default):
    o = default.tables["orders"]
    return _monthly(o[(o[schema.Orders.amount] > 0) & (o[schema.Orders.amount] < 200_000)], schema.Orders.order_date)


@pytest.fixture(scope="module")
def planted(default):
    return default.truth["planted_problems"]


def test_every_pattern_is_planted_in_about_13_percent_of_dealers(default, planted):
    assert set(planted["pattern"]) == set(PATTERNS)
    assert 0.10 <= len(planted) / len(default.tables["dealers"]) <= 0.16
    assert planted["dealer_id"].is_unique


def test_onsets_fall_mostly_in_the_last_24_months(default, planted):
    onset = pd.PeriodIndex(planted["onset_month"], freq="M")
    assert (onset >= pd.Period("2023-01", "M")).all() and (onset <= pd.Period(DEMO_DEFAULT_END, "M")).all()
    assert (onset > pd.Period(DEMO_DEFAULT_END, "M") - 24).mean() >= 0.75


@pytest.mark.parametrize("pattern", ["stop", "terminate"])
def test_stopped_dealers_order_nothing_from_onset(default, planted, pattern):
    o = default.tables["orders"]
    rows = planted[planted["pattern"] == pattern]
    onset = rows.set_index("dealer_id")["onset_month"].map(lambda m: pd.Period(m, "M").start_time)
    mine = o[o[schema.Orders.dealer_id].isin(onset.index)]
    assert len(mine) > 0
    assert (mine[schema.Orders.order_date] < mine[schema.Orders.dealer_id].map(onset)).all()


def test_terminated_dealers_leave_a_few_months_after_they_stop(default, planted):
    d = default.tables["dealers"].set_index(schema.Dealers.dealer_id)
    gone = d[d[schema.Dealers.terminated_date].notna()]
    rows = planted[planted["pattern"] == "terminate"].set_index("dealer_id")
    assert set(gone.index) == set(rows.index)
    months_after = [
        (pd.Period(gone.loc[i, schema.Dealers.terminated_date], "M") - pd.Period(rows.loc[i, "onset_month"], "M")).n
        for i in rows.index
    ]
    assert min(months_after) >= 1 and max(months_after) <= 5
    inter = default.tables["interactions"]
    left = inter[schema.Interactions.dealer_id].map(d[schema.Dealers.terminated_date])
    assert not (inter[schema.Interactions.occurred_at] >= left).any()


def test_no_reorder_dealers_have_exactly_one_positive_order(default, planted):
    o = default.tables["orders"]
    positive = (
        o[o[schema.Orders.amount] > 0].groupby(schema.Orders.dealer_id)[schema.Orders.order_date].agg(["size", "min"])
    )
    ids = planted.loc[planted["pattern"] == "no_reorder", "dealer_id"]
    assert (positive["size"].reindex(ids, fill_value=0) == 1).all()
    # and nobody else whose first order is old enough to count (first_order_only_share stays ~2%)
    old_enough = positive["min"] <= pd.Timestamp(DEMO_DEFAULT_END) + pd.offsets.MonthEnd(0) - pd.Timedelta(days=180)
    assert set(positive.index[old_enough & (positive["size"] == 1)]) == set(ids)


@pytest.mark.parametrize(
    ("pattern", "after", "at_most"),
    [("drop", (0, 6), 0.4), ("decline", (3, 12), 0.6), ("calls_spike_then_drop", (4, 9), 0.4)],
)
def test_purchases_fall_after_onset(parts_counts, planted, pattern, after, at_most):
    rows = planted[planted["pattern"] == pattern]
    before, later = _before_after(parts_counts, rows["dealer_id"], rows["onset_month"], after)
    assert later < at_most * before


def test_unplanted_dealers_do_not_fall(default, parts_counts, planted):
    """The control group: the same comparison at the same onsets for dealers with no planted problem."""
    rng = np.random.default_rng(0)
    d = default.tables["dealers"]
    calm = d.loc[
        ~d[schema.Dealers.dealer_id].isin(planted["dealer_id"]) & (d[schema.Dealers.signed_date] < "2023-01-01")
    ]
    dealers = rng.choice(calm[schema.Dealers.dealer_id], 300, replace=False)
    onsets = rng.choice(planted.loc[planted["pattern"] == "drop", "onset_month"], 300)
    before, later = _before_after(parts_counts, dealers, onsets, (0, 6))
    assert 0.75 < later / before < 1.33


def test_calls_spike_before_orders_drop(default, planted):
    inter = default.tables["interactions"]
    inbound = inter[(inter[schema.Interactions.kind] == "phone") & (inter[schema.Interactions.direction] == "inbound")]
    calls = _monthly(inbound, schema.Interactions.occurred_at)
    rows = planted[planted["pattern"] == "calls_spike_then_drop"]
    before, spike = _before_after(calls, rows["dealer_id"], rows["onset_month"], (0, 2))
    assert spike > 2.5 * before


def test_regional_downturn_is_recorded_and_visible(default, parts_counts):
    downturns = default.truth["regional_downturns"]
    assert len(downturns) >= 1 and downturns["factor"].between(0.3, 0.8).all()
    region_of = default.tables["dealers"].set_index(schema.Dealers.dealer_id)[schema.Dealers.region]
    by_region = parts_counts.groupby(region_of.reindex(parts_counts.index)).sum()
    share = by_region / by_region.sum()
    for row in downturns.itertuples():
        months = pd.period_range(row.start_month, row.end_month, freq="M")
        inside = share.loc[row.region, months].mean()
        outside = share.loc[row.region].drop(months).mean()
        assert inside < 0.8 * outside


def test_chinese_new_year_dip_is_visible_network_wide(default):
    o = default.tables["orders"]
    per_month = o.groupby(_month(o[schema.Orders.order_date])).size()
    per_month.index = pd.PeriodIndex(per_month.index, freq="M")
    seen = 0
    for day in CNY_DATES.values():
        month = pd.Period(day, "M")
        if month - 2 in per_month.index and month + 2 in per_month.index:
            assert per_month[month] < 0.8 * (per_month[month - 2] + per_month[month + 2]) / 2
            seen += 1
    assert seen >= 3
    per_day = o.groupby(o[schema.Orders.order_date]).size()
    festival = pd.date_range(pd.Timestamp("2026-02-17") - pd.Timedelta(days=3), periods=10)
    after = pd.date_range("2026-03-10", "2026-04-08")
    assert per_day.reindex(festival, fill_value=0).mean() < 0.3 * per_day.reindex(after, fill_value=0).mean()


def test_building_seasons_peak_in_spring_and_autumn(default):
    o = default.tables["orders"]
    per_month = o.groupby(o[schema.Orders.order_date].dt.month).size()
    assert per_month[[4, 10]].mean() > 1.15 * per_month[[7, 8]].mean()


def test_prospect_conversion_is_one_to_three_percent(default):
    pr = default.tables["prospects"]
    closed = pr[pr[schema.Prospects.status] != "open"]
    assert 0.01 <= (closed[schema.Prospects.status] == "signed").mean() <= 0.03
    last12 = closed[closed[schema.Prospects.closed_date] >= pd.Timestamp(DEMO_DEFAULT_END) - pd.DateOffset(months=11)]
    assert 0.01 <= (last12[schema.Prospects.status] == "signed").mean() <= 0.03
    signed = pr[pr[schema.Prospects.status] == "signed"].set_index(schema.Prospects.dealer_id)
    d = default.tables["dealers"].set_index(schema.Dealers.dealer_id)
    assert (signed[schema.Prospects.closed_date] == d.loc[signed.index, schema.Dealers.signed_date]).all()
    assert set(signed.index) == set(d.index[d[schema.Dealers.signed_date] >= "2023-01-01"])


def test_diligent_managers_call_and_visit_more(default):
    d = default.tables["dealers"]
    inter = default.tables["interactions"]
    month = pd.Period("2026-06", "M")
    calls = inter[
        (_month(inter[schema.Interactions.occurred_at]) == np.datetime64(str(month)))
        & (inter[schema.Interactions.kind] == "phone")
        & (inter[schema.Interactions.direction] == "outbound")
    ]
    established = d[(d[schema.Dealers.signed_date] < month.start_time) & d[schema.Dealers.terminated_date].isna()]
    covered = established[schema.Dealers.dealer_id].isin(calls[schema.Interactions.dealer_id])
    coverage = covered.groupby(established[schema.Dealers.sales_manager_id]).mean()
    diligence = default.truth["sales_manager_profiles"].set_index("sales_manager_id")["diligence"]
    assert _spearman(coverage, diligence.reindex(coverage.index)) > 0.5
    assert coverage.max() >= 0.95 and coverage.min() <= 0.6
    assert 15 <= len(d) / len(default.tables["sales_managers"]) <= 40


def test_slow_departments_miss_their_time_limits(default):
    sr = default.tables["service_requests"].copy()
    limit = sr[schema.ServiceRequests.process].map(
        {"order": 24, "payment": 48, "logistics": 72, "support": 48, "complaint": 72}
    )
    hours = (sr[schema.ServiceRequests.closed_at] - sr[schema.ServiceRequests.opened_at]).dt.total_seconds() / 3600
    sr["within"] = hours <= limit
    slow = sr[schema.ServiceRequests.department].isin(default.params["slow_departments"])
    assert sr.loc[slow, "within"].mean() < sr.loc[~slow, "within"].mean() - 0.2
    sat = sr[schema.ServiceRequests.satisfaction].astype(float)
    assert sat[~sr["within"]].mean() < sat[sr["within"]].mean() - 0.5
    assert set(sr[schema.ServiceRequests.process]) == set(schema.PROCESSES)
    assert sr[schema.ServiceRequests.closed_at].isna().any()


def test_requests_bypass_the_process_more_under_less_diligent_managers(default):
    sr = default.tables["service_requests"]
    profiles = default.truth["dealer_profiles"].set_index("dealer_id")
    diligence = sr[schema.ServiceRequests.dealer_id].map(profiles["manager_diligence"])
    via = sr[schema.ServiceRequests.via_sales_manager].astype(bool)
    assert via[diligence < 0.6].mean() > via[diligence > 0.9].mean() + 0.1


def test_expenses_cover_every_category_of_both_purposes(default):
    ex = default.tables["expenses"]
    pairs = set(zip(ex[schema.Expenses.purpose], ex[schema.Expenses.category], strict=True))
    wanted = {("acquisition", c) for c in ("setup", "recruiting_training", "advertising", "travel")}
    wanted |= {("retention", c) for c in ("support", "incentives", "events", "travel", "other")}
    assert wanted <= pairs
    assert ex[schema.Expenses.dealer_id].notna().any() and ex[schema.Expenses.dealer_id].isna().any()
    assert ex[schema.Expenses.sales_manager_id].notna().any() and ex[schema.Expenses.sales_manager_id].isna().any()
    assert ex[schema.Expenses.region].notna().mean() > 0.95  # national events carry no region
    new = (default.tables["dealers"][schema.Dealers.signed_date] >= "2023-01-01").sum()
    cac = ex.loc[ex[schema.Expenses.purpose] == "acquisition", schema.Expenses.amount].sum() / new
    retention_per_dealer_year = (
        ex.loc[ex[schema.Expenses.purpose] == "retention", schema.Expenses.amount].sum() / 1000 / 3.8
    )
    assert cac > 4 * retention_per_dealer_year  # acquisition is the expensive part


def test_events_of_every_kind_attended_by_healthier_dealers(default):
    ev, att = default.tables["events"], default.tables["event_attendance"]
    assert set(ev[schema.Events.kind]) == set(schema.EVENT_KINDS)
    assert ev[schema.Events.region].isna().any() and ev[schema.Events.region].notna().any()
    propensity = default.truth["dealer_profiles"].set_index("dealer_id")["attendance_propensity"]
    times = att.groupby(schema.EventAttendance.dealer_id).size().reindex(propensity.index, fill_value=0)
    assert _spearman(times, propensity) > 0.3


def test_orders_are_lumpy_with_returns(default):
    amount = default.tables["orders"][schema.Orders.amount]
    assert 0.01 <= (amount < 0).mean() <= 0.06
    machines = amount[amount >= 500_000]
    assert len(machines) > 0 and machines.max() <= 3_000_000
    parts = amount[(amount > 0) & (amount < 500_000)]
    assert parts.median() < 80_000 and (amount > 0).sum() > 10 * len(machines)


def test_sparse_dealers_order_in_fewer_months(default, parts_counts):
    profiles = default.truth["dealer_profiles"].set_index("dealer_id")
    established = profiles[profiles["signed_date"] < "2022-01-01"]
    ordered = (parts_counts.reindex(established.index, fill_value=0) > 0).mean(axis=1)
    sparse, steady = established["is_sparse"], established["order_rhythm_months"] == 1
    assert ordered[sparse].median() < 0.5 < 0.8 < ordered[steady].median()


def test_new_dealers_start_with_a_batch_order_and_are_signed_throughout(default):
    d = default.tables["dealers"].set_index(schema.Dealers.dealer_id)
    new = d[d[schema.Dealers.signed_date] >= "2023-01-01"]
    quarters = new[schema.Dealers.signed_date].dt.to_period("Q").nunique()
    assert quarters >= 15  # of 16 quarters in 2023-01..2026-10
    o = default.tables["orders"]
    first = (
        o[o[schema.Orders.dealer_id].isin(new.index)].groupby(schema.Orders.dealer_id)[schema.Orders.order_date].min()
    )
    gap = (first - new.loc[first.index, schema.Dealers.signed_date]).dt.days
    assert gap.between(-20, 15).mean() > 0.95


def test_names_and_regions_are_chinese(default):
    d = default.tables["dealers"]
    names = d[schema.Dealers.dealer_name]
    assert names.str.contains(r"[\u4e00-\u9fff]").all() and names.str.endswith("公司").all()
    assert (names.str.len() >= 25).any()
    provinces = {"山东", "江苏", "广东", "河南", "四川", "浙江", "河北", "湖北",
                 "湖南", "安徽", "福建", "陕西", "辽宁", "江西", "云南", "广西",
                 "山西", "贵州", "内蒙古", "新疆", "黑龙江", "吉林", "重庆", "甘肃"}  # fmt: skip
    assert set(d[schema.Dealers.region]) <= provinces
    assert set(d[schema.Dealers.tier]) == {"A", "B", "C"}
    assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", default.tables["sales_managers"][schema.SalesManagers.name].iloc[0])
