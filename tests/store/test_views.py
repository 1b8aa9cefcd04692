"""What the reports of a month read of the prospects, service requests, expenses and event
attendance (``report_data.table_view``): only the columns their figures use, and of the prospects
and service requests only the rows that can count in the 13 months they show. Every figure the
reports draw from such a part must equal the figure drawn from the whole table, on random tables,
read from memory and from a prepared folder's file (where an Arrow filter picks the rows)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.metrics import funnel, service
from channel_analysis.months import Month
from channel_analysis.store.views import PreparedTables, table_view, view_rows
from helpers.funnel_tables import INTERACTIONS, RETAINED, _prospects
from helpers.service_tables import dealers, random_requests, requests

FIRST, LAST = pd.Timestamp("2022-01-01"), pd.Timestamp("2025-12-31")
MONTHS = [str(p) for p in pd.period_range("2023-06", "2025-12", freq="M")]


def _both(tmp_path, name: str, frame: pd.DataFrame, month: str, config: Settings) -> list[pd.DataFrame]:
    """The view of ``frame`` from memory and from a prepared folder's file, both cut at M as a report sees them."""
    frame = frame.astype({c: "datetime64[us]" for c in frame.select_dtypes("datetime").columns})  # as validation types them
    frame = frame.rename_axis("source_row")
    path = tmp_path / f"{name}.parquet"
    frame.rename_axis(None).to_parquet(path, index=True)  # as write_prepared_source writes a table
    m = Month(month)
    cut = frame[frame[schema.date_column(name)] < m.stop]
    memory = table_view({name: cut}, name, m, config)
    prepared = table_view(PreparedTables({name: path}).as_of(m), name, m, config)
    pd.testing.assert_frame_equal(prepared, memory, check_index_type=False)
    return [memory, prepared]


def service_requests():
    """Requests over four years, some open for up to 500 days."""
    return random_requests(start=FIRST, days=1450, close_days=500, most=40, dealers=("D1", "D2", "D3"),
                           departments=("销售部", "财务部", "技术部", None))


LONG_LIMITS = Settings(sla_hours={"order": 24.0, "payment": 24 * 90.0, "logistics": 72.0, "support": 24 * 200.0,
                                  "complaint": 48.0})  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(frame=service_requests(), month=st.sampled_from(MONTHS), config=st.sampled_from([Settings(), LONG_LIMITS]))
def test_the_service_figures_of_the_months_shown_are_the_same_from_the_requests_in_view(tmp_path, frame, month, config):
    whole = frame[frame[schema.ServiceRequests.opened_at] < Month(month).stop]
    period = pd.Period(month, freq="M")

    def figures(table: pd.DataFrame) -> list[pd.DataFrame]:
        """Every service figure a report or the deck of M shows: 12-month trends, M−1 against M."""
        out = [service.service_levels(table, as_of=period - k, by=None, settings=config) for k in range(13)]
        out += [service.service_levels(table, as_of=period - k, settings=config) for k in range(2)]
        return out + [service.slowest_departments(table, as_of=month, settings=config),
                      service.sla_compliance_trend(table, as_of=month, settings=config),
                      service.via_sales_manager_trend(table, dealers(), as_of=month)]

    expected = figures(whole)
    for part in _both(tmp_path, "service_requests", frame, month, config):
        assert "request_id" not in part  # no figure uses it
        for got, want in zip(figures(part), expected, strict=True):
            pd.testing.assert_frame_equal(got, want)


@st.composite
def prospects(draw):
    rows = []
    for i in range(draw(st.integers(0, 40))):
        first = FIRST + pd.Timedelta(days=draw(st.integers(0, 1450)))
        stage = draw(st.sampled_from(schema.STAGES))
        status = "signed" if stage == "signed" else draw(st.sampled_from(["lost", "open"]))
        closed = None if status == "open" else first + pd.Timedelta(days=draw(st.integers(0, 700)))
        rows.append((f"P{i}", draw(st.sampled_from(["N", "S"])), draw(st.sampled_from(["SM1", "SM2", None])),
                     first, stage, status, closed, f"D{i}" if status == "signed" else None,
                     draw(st.one_of(st.none(), st.integers(0, 30))), draw(st.one_of(st.none(), st.floats(0, 50)))))
    return _prospects(rows)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(frame=prospects(), month=st.sampled_from(MONTHS))
def test_the_funnel_figures_of_m_and_m_minus_1_are_the_same_from_the_prospects_in_view(tmp_path, frame, month):
    whole = frame[frame[schema.Prospects.first_contact_date] < Month(month).stop]
    for part in _both(tmp_path, "prospects", frame, month, Settings()):
        assert "prospect_id" not in part and "dealer_id" not in part
        for m in (month, str(pd.Period(month, freq="M") - 1)):
            pd.testing.assert_frame_equal(funnel.prospect_funnel(part, as_of=m, window_months=12),
                                          funnel.prospect_funnel(whole, as_of=m, window_months=12))
            signed = (funnel.prospect_funnel(whole, as_of=m, window_months=12)["closed"].iloc[-1]) > 0
            for by in ([None, "region"] if signed else []):  # time_to_signing needs a signing (as the deck checks)
                pd.testing.assert_frame_equal(funnel.time_to_signing(part, as_of=m, by=by, window_months=12),
                                              funnel.time_to_signing(whole, as_of=m, by=by, window_months=12))
            pd.testing.assert_frame_equal(
                funnel.acquisition_vs_retention_effort(part, INTERACTIONS, RETAINED, as_of=m),
                funnel.acquisition_vs_retention_effort(whole, INTERACTIONS, RETAINED, as_of=m))


def test_the_rows_in_view_are_those_that_can_count_in_the_13_months_shown(tmp_path):
    # M = 2025-10: the view starts 2024-10-01. Kept: R1 opened in it; R2 opened 2024-09-30 but
    # its 48 h complaint limit ends inside it; R3 opened long before, closed inside it; R4 still
    # open. Left out: R5 closed 2024-09-20 (nothing of it counts after September 2024).
    rows = [
        ("R1", "D1", "order", "销售部", "2025-10-02 09:00", "2025-10-02 15:00", False, 5),
        ("R2", "D1", "complaint", "质量部", "2024-09-30 12:00", "2024-09-30 13:00", True, None),
        ("R3", "D2", "support", "技术部", "2023-01-05 08:00", "2024-10-01 00:00", False, 1),
        ("R4", "D2", "logistics", None, "2022-03-01 00:00", None, False, None),
        ("R5", "D3", "order", "销售部", "2024-09-01 09:00", "2024-09-20 09:00", False, 4),
    ]
    parts = _both(tmp_path, "service_requests", requests(rows), "2025-10", Settings())
    assert [list(p.index) for p in parts] == [[1, 2, 3, 4]] * 2
    # a prospect closed on the view's first day is in it, one closed the day before is not
    frame = _prospects([("P1", "N", "SM1", "2023-01-01", "visited", "lost", "2024-10-01", None, 1, 1.0),
                        ("P2", "N", "SM1", "2023-01-01", "visited", "lost", "2024-09-30", None, 1, 1.0),
                        ("P3", "S", None, "2020-05-01", "contacted", "open", None, None, None, None)])
    assert [list(p.index) for p in _both(tmp_path, "prospects", frame, "2025-10", Settings())] == [[0, 2]] * 2


def test_without_closing_times_every_request_stays_in_view():
    columns = [c for c in schema.columns_of("service_requests") if c != schema.ServiceRequests.closed_at]
    assert view_rows("service_requests", Month("2025-10"), Settings(), columns) is None
    assert view_rows("expenses", Month("2025-10"), Settings(), list(schema.columns_of("expenses"))) is None


@pytest.mark.parametrize("name", ["expenses", "event_attendance"])
def test_tables_read_for_every_year_keep_every_row_and_only_the_columns_used(name):
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in schema.columns_of(name)})
    part = table_view({name: frame}, name, Month("2025-10"), Settings())
    assert len(part) == len(frame)
    assert ("expense_id" not in part) if name == "expenses" else list(part) == list(frame)
