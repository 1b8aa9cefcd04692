"""The data contract's tables as schema models: the one place where column names live.

Each table is a pandera ``DataFrameModel`` describing the *validated* frame (after
types are parsed). Code refers to columns through the models — ``Orders.amount``
is the string ``"amount"`` — never through loose strings.

Beyond what pandera checks by itself, every field carries ``metadata``:

``kind``
    how the raw value is parsed: ``text``, ``code`` (matched exactly, lower case),
    ``date``, ``timestamp``, ``number``, ``integer`` or ``boolean``.
``unique``
    ids: of rows sharing a value, the first is accepted and later ones quarantined.
``ref``
    ``"table.column"`` the value must exist in (when the value is given and, for
    optional tables, when that table is given).
``date_col``
    the field a table is dated by (``rows_after_month`` and as-of filtering).

Row rules that involve several columns are ``@pa.dataframe_check`` methods whose
docstring is the quarantine reason.
"""

from __future__ import annotations

from typing import Any, Optional

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

TEXT, CODE, DATE, TIMESTAMP, NUMBER, INTEGER, BOOLEAN = (
    "text",
    "code",
    "date",
    "timestamp",
    "number",
    "integer",
    "boolean",
)

PROCESSES = ("order", "payment", "logistics", "support", "complaint")
INTERACTION_KINDS = ("phone", "visit", "message")
DIRECTIONS = ("outbound", "inbound")
PURPOSES = ("acquisition", "retention")
EXPENSE_CATEGORIES = (
    "setup",
    "recruiting_training",
    "advertising",
    "travel",
    "events",
    "support",
    "incentives",
    "other",
)
STAGES = ("contacted", "visited", "negotiating", "signed")
PROSPECT_STATUSES = ("open", "signed", "lost")
EVENT_KINDS = ("conference", "annual_meeting", "forum", "social", "training")


def _field(kind: str, *, unique: bool = False, ref: str | None = None, date_col: bool = False, **checks: Any):
    metadata = {"kind": kind, "unique": unique, "ref": ref, "date_col": date_col}
    return pa.Field(metadata=metadata, **checks)


class _Table(pa.DataFrameModel):
    class Config:
        strict = False  # columns not named in the contract are kept but not used
        coerce = False  # the loader parses types itself, row by row, to quarantine


class SalesManagers(_Table):
    sales_manager_id: Series[str] = _field(TEXT, unique=True)
    name: Series[str] = _field(TEXT, nullable=True)
    region: Optional[Series[str]] = _field(TEXT, nullable=True)
    hired_date: Optional[Series[pd.Timestamp]] = _field(DATE, nullable=True)
    left_date: Optional[Series[pd.Timestamp]] = _field(DATE, nullable=True)


class Dealers(_Table):
    dealer_id: Series[str] = _field(TEXT, unique=True)
    dealer_name: Series[str] = _field(TEXT, nullable=True)
    region: Series[str] = _field(TEXT)
    tier: Optional[Series[str]] = _field(TEXT, nullable=True)
    sales_manager_id: Optional[Series[str]] = _field(TEXT, nullable=True, ref="sales_managers.sales_manager_id")
    signed_date: Series[pd.Timestamp] = _field(DATE, date_col=True)
    terminated_date: Optional[Series[pd.Timestamp]] = _field(DATE, nullable=True)

    @pa.dataframe_check
    def terminated_not_before_signed(cls, df: pd.DataFrame) -> Series[bool]:
        """terminated_date is before signed_date"""
        if "terminated_date" not in df:
            return pd.Series(True, index=df.index)
        return df["terminated_date"].isna() | (df["terminated_date"] >= df["signed_date"])


class Orders(_Table):
    order_id: Series[str] = _field(TEXT, unique=True)
    dealer_id: Series[str] = _field(TEXT, ref="dealers.dealer_id")
    order_date: Series[pd.Timestamp] = _field(DATE, date_col=True)
    amount: Series[float] = _field(NUMBER, ne=0)
    quantity: Optional[Series[pd.Int64Dtype]] = _field(INTEGER, nullable=True, ge=0)
    product_line: Optional[Series[str]] = _field(TEXT, nullable=True)


class Interactions(_Table):
    interaction_id: Series[str] = _field(TEXT, unique=True)
    dealer_id: Series[str] = _field(TEXT, ref="dealers.dealer_id")
    sales_manager_id: Optional[Series[str]] = _field(TEXT, nullable=True, ref="sales_managers.sales_manager_id")
    occurred_at: Series[pd.Timestamp] = _field(TIMESTAMP, date_col=True)
    kind: Series[str] = _field(CODE, isin=list(INTERACTION_KINDS))
    direction: Series[str] = _field(CODE, isin=list(DIRECTIONS))
    duration_minutes: Optional[Series[float]] = _field(NUMBER, nullable=True, ge=0)


class ServiceRequests(_Table):
    request_id: Series[str] = _field(TEXT, unique=True)
    dealer_id: Series[str] = _field(TEXT, ref="dealers.dealer_id")
    process: Series[str] = _field(CODE, isin=list(PROCESSES))
    opened_at: Series[pd.Timestamp] = _field(TIMESTAMP, date_col=True)
    closed_at: Optional[Series[pd.Timestamp]] = _field(TIMESTAMP, nullable=True)
    department: Optional[Series[str]] = _field(TEXT, nullable=True)
    via_sales_manager: Series[pd.BooleanDtype] = _field(BOOLEAN)
    satisfaction: Optional[Series[pd.Int64Dtype]] = _field(INTEGER, nullable=True, in_range={"min_value": 1, "max_value": 5})

    @pa.dataframe_check
    def closed_not_before_opened(cls, df: pd.DataFrame) -> Series[bool]:
        """closed_at is before opened_at"""
        if "closed_at" not in df:
            return pd.Series(True, index=df.index)
        return df["closed_at"].isna() | (df["closed_at"] >= df["opened_at"])


class Expenses(_Table):
    expense_id: Series[str] = _field(TEXT, unique=True)
    spent_on: Series[pd.Timestamp] = _field(DATE, date_col=True)
    amount: Series[float] = _field(NUMBER, gt=0)
    purpose: Series[str] = _field(CODE, isin=list(PURPOSES))
    category: Series[str] = _field(CODE, isin=list(EXPENSE_CATEGORIES))
    region: Optional[Series[str]] = _field(TEXT, nullable=True)
    dealer_id: Optional[Series[str]] = _field(TEXT, nullable=True, ref="dealers.dealer_id")
    sales_manager_id: Optional[Series[str]] = _field(TEXT, nullable=True)


class Prospects(_Table):
    prospect_id: Series[str] = _field(TEXT, unique=True)
    region: Series[str] = _field(TEXT)
    sales_manager_id: Optional[Series[str]] = _field(TEXT, nullable=True)
    first_contact_date: Series[pd.Timestamp] = _field(DATE, date_col=True)
    stage_reached: Series[str] = _field(CODE, isin=list(STAGES))
    status: Series[str] = _field(CODE, isin=list(PROSPECT_STATUSES))
    closed_date: Series[pd.Timestamp] = _field(DATE, nullable=True)
    dealer_id: Series[str] = _field(TEXT, nullable=True, ref="dealers.dealer_id")
    touches: Optional[Series[pd.Int64Dtype]] = _field(INTEGER, nullable=True, ge=0)
    hours_spent: Optional[Series[float]] = _field(NUMBER, nullable=True, ge=0)

    @pa.dataframe_check
    def signed_status_matches_stage(cls, df: pd.DataFrame) -> Series[bool]:
        """status is 'signed' exactly when stage_reached is 'signed'"""
        return (df["status"] == "signed") == (df["stage_reached"] == "signed")

    @pa.dataframe_check
    def closed_date_unless_open(cls, df: pd.DataFrame) -> Series[bool]:
        """closed_date is required unless status is 'open'"""
        return (df["status"] == "open") | df["closed_date"].notna()

    @pa.dataframe_check
    def closed_not_before_first_contact(cls, df: pd.DataFrame) -> Series[bool]:
        """closed_date is before first_contact_date"""
        return df["closed_date"].isna() | (df["closed_date"] >= df["first_contact_date"])

    @pa.dataframe_check
    def dealer_when_signed(cls, df: pd.DataFrame) -> Series[bool]:
        """dealer_id is required when status is 'signed'"""
        return (df["status"] != "signed") | df["dealer_id"].notna()


class Events(_Table):
    event_id: Series[str] = _field(TEXT, unique=True)
    held_on: Series[pd.Timestamp] = _field(DATE, date_col=True)
    kind: Series[str] = _field(CODE, isin=list(EVENT_KINDS))
    name: Optional[Series[str]] = _field(TEXT, nullable=True)
    region: Optional[Series[str]] = _field(TEXT, nullable=True)
    cost: Series[float] = _field(NUMBER, ge=0)


class EventAttendance(_Table):
    event_id: Series[str] = _field(TEXT, ref="events.event_id")
    dealer_id: Series[str] = _field(TEXT, ref="dealers.dealer_id")


# Tables in the order they are validated: a table comes after every table it refers to.
TABLES: dict[str, type[_Table]] = {
    "sales_managers": SalesManagers,
    "dealers": Dealers,
    "orders": Orders,
    "interactions": Interactions,
    "service_requests": ServiceRequests,
    "expenses": Expenses,
    "prospects": Prospects,
    "events": Events,
    "event_attendance": EventAttendance,
}
REQUIRED_TABLES = ("dealers", "orders")
# Keys unique over several columns: (table -> columns); first row wins.
COMPOUND_KEYS: dict[str, tuple[str, ...]] = {"event_attendance": ("event_id", "dealer_id")}


def columns_of(table: str) -> dict[str, pa.Column]:
    """The contract's columns of ``table`` (name -> pandera Column with metadata)."""
    return dict(TABLES[table].to_schema().columns)


def required_columns(table: str) -> list[str]:
    """Columns that must be present in ``table`` (optional ones may be absent)."""
    return [name for name, col in columns_of(table).items() if col.required]


def kind_of(table: str, column: str) -> str:
    return columns_of(table)[column].metadata["kind"]


def key_of(table: str) -> tuple[str, ...]:
    """The columns that identify a row of ``table`` (its id, or its compound key)."""
    if table in COMPOUND_KEYS:
        return COMPOUND_KEYS[table]
    return tuple(name for name, col in columns_of(table).items() if col.metadata["unique"])


def date_column(table: str) -> str | None:
    """The column ``table`` is dated by (for as-of filtering and rows_after_month)."""
    for name, col in columns_of(table).items():
        if col.metadata["date_col"]:
            return name
    return None


def references(table: str) -> dict[str, tuple[str, str]]:
    """``column -> (table, column)`` for every column of ``table`` that refers to another table."""
    out = {}
    for name, col in columns_of(table).items():
        if col.metadata["ref"]:
            ref_table, ref_col = col.metadata["ref"].split(".")
            out[name] = (ref_table, ref_col)
    return out


class Panel(pa.DataFrameModel):
    """The dealer × month panel (``panel.dealer_month_panel``): one row per dealer and
    calendar month, from the month of its first order or signing (whichever is first)
    to the report month or the month it left, zero-filled where nothing happened."""

    dealer_id: Series[str]
    month: Series[pd.Timestamp]  # first day of the month
    region: Series[str]
    tier: Series[str] = pa.Field(nullable=True)
    sales_manager_id: Series[str] = pa.Field(nullable=True)
    months_since_signed: Series[int]  # 0 in the signing month; negative before it
    in_network: Series[bool]  # in the network on the month's last day
    revenue: Series[float]  # sum of order amounts (returns included, negative)
    gross_orders: Series[float]  # sum of positive amounts
    returns: Series[float]  # sum of negative amounts, as a positive number
    order_count: Series[int]  # positive orders
    return_count: Series[int]
    quantity: Series[int]
    calls_in: Series[int]  # phone + inbound: the dealer calling the maker
    calls_out: Series[int]  # phone + outbound: follow-up calls (電話回訪)
    visits: Series[int]  # on-site visits (上門拜訪)
    messages: Series[int]
    requests: Series[int]  # service requests opened, all processes
    requests_via_sm: Series[int]  # ... of which reached the maker through the sales manager
    complaints: Series[int]  # service requests with process 'complaint'
    events_attended: Series[int]

    class Config:
        strict = False
