"""The rules between rows, declared once: an id given twice, a reference to a row that is not
accepted, an order long before its dealer signed.

Each rule of the catalogue (:func:`rules_of`) names the table it judges, the columns it reads,
the other tables it reads (the accepted rows of the table referred to, the ids found only in its
quarantine), its reason (one sentence, filled with the figures the rule finds), the order of that
reason among a row's reasons, and one engine-neutral Ibis expression that finds the rows breaking
it. The in-memory validator (:mod:`.memory`) and the streaming one (:mod:`.stream`) run the
expression on DuckDB, over frames or over Parquet files; the PostgreSQL validator
(:mod:`.postgres`) compiles it for the server, where it marks the rows to fetch and judge.

Every expression works on a table of the typed rows with a row-identity column (``source_row`` in
memory and in files, the row's place on disk in PostgreSQL) and returns that column, renamed
``row``, with the figures of the reason. :attr:`Rule.suspects` is what PostgreSQL fetches: for a
duplicate id every row sharing it (so that "the first row wins" sees them all), else the rows the
rule finds.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from channel_analysis import schema
from channel_analysis.config import ORDER_BEFORE_SIGNING_DAYS

Others = dict[str, ir.Table]  # the other tables a rule reads, by the names in Rule.reads_tables
Find = Callable[[ir.Table, Others, str], ir.Table]


@dataclass(frozen=True)
class Rule:
    """One rule between rows (see the module docstring)."""

    name: str
    table: str
    reads: tuple[str, ...]  # the columns of ``table`` it reads
    reason: str  # the quarantine reason, ``str.format``-ed with the figures ``find`` returns
    order: int  # where its reason goes among those of a row (the rules of a row alone come first)
    find: Find  # (typed rows, other tables, row column) → row, figures…
    reads_tables: tuple[str, ...] = ()  # the other tables it reads (accepted rows, quarantined ids)
    shared: Find | None = field(default=None, repr=False)  # the suspects, when not the rows found

    def suspects(self, rows: ir.Table, others: Others, row: str) -> ir.Table:
        """The rows that may break the rule (a superset of those it finds): ``row`` only."""
        found = (self.shared or self.find)(rows, others, row)
        return found.select("row")

    def reasons(self, found: pd.DataFrame) -> pd.Series:
        """The rows ``find`` returned (fetched) → each row's reason, indexed by its row."""
        texts = [self.reason.format(**r) for r in found.drop(columns="row").to_dict("records")]
        return pd.Series(texts, index=pd.Index(found["row"], name="row"), dtype=object)


def _given(rows: ir.Table, columns: tuple[str, ...]) -> ir.BooleanValue:
    condition = rows[columns[0]].notnull()
    for column in columns[1:]:
        condition &= rows[column].notnull()
    return condition


def _key_text(rows: ir.Table, key: tuple[str, ...]) -> ir.StringValue:
    """The key's values as text, joined by " / " (as the quarantine shows them)."""
    parts = [rows[k].cast("string") for k in key]
    text = parts[0]
    for part in parts[1:]:
        text = text + " / " + part
    return text


def _unique_key(table: str, key: tuple[str, ...]) -> Rule:
    def shared(rows: ir.Table, others: Others, row: str) -> ir.Table:
        # the keys given more than once first (one hash aggregate), then only their rows
        given = rows.filter(_given(rows, key))
        repeated = given.group_by(list(key)).aggregate(_n=given.count()).filter(lambda t: t._n > 1)
        return given.semi_join(repeated, list(key)).mutate(row=given[row])

    def find(rows: ir.Table, others: Others, row: str) -> ir.Table:
        repeated = shared(rows, others, row)
        ranked = repeated.mutate(first_row=repeated[row].min().over(group_by=list(key)))
        later = ranked.filter(ranked[row] > ranked.first_row)
        return later.select("row", value=_key_text(later, key), first_row=later.first_row)

    return Rule(
        name=f"unique_{'_'.join(key)}", table=table, reads=key, order=0, find=find, shared=shared,
        reason="duplicate " + "+".join(key) + " '{value}' (first given in row {first_row})",
    )  # fmt: skip


def _reference(table: str, column: str, ref_table: str, ref_column: str, order: int) -> list[Rule]:
    """Two rules: the value is only among the referred table's quarantined rows, or not in it at all."""

    def unknown(rows: ir.Table, others: Others, row: str, *, quarantined: bool) -> ir.Table:
        accepted, dropped = others[ref_table], others[f"{ref_table}.quarantined"]
        given = rows.filter(rows[column].notnull())
        outside = given.anti_join(accepted, given[column] == accepted[ref_column])
        pick = outside.semi_join if quarantined else outside.anti_join
        hit = pick(dropped, outside[column] == dropped["id"])
        return hit.select(row=hit[row], value=hit[column].cast("string"))

    return [
        Rule(name=f"{column}_quarantined", table=table, reads=(column,), order=order,
             reads_tables=(ref_table, f"{ref_table}.quarantined"),
             find=lambda rows, others, row: unknown(rows, others, row, quarantined=True),
             reason=f"{column} '{{value}}' refers to a quarantined row of {ref_table} (see quarantine/{ref_table}.csv)"),
        Rule(name=f"{column}_known", table=table, reads=(column,), order=order,
             reads_tables=(ref_table, f"{ref_table}.quarantined"),
             find=lambda rows, others, row: unknown(rows, others, row, quarantined=False),
             reason=f"{column} '{{value}}' is not in {ref_table}"),
    ]  # fmt: skip


def _day(value: ir.Value) -> ir.StringValue:
    """A date or timestamp as its day, ``2024-01-05``."""
    return (value if value.type().is_date() else value.date()).cast("string")


def _ordered_after_signing() -> Rule:
    O, D = schema.Orders, schema.Dealers

    def find(rows: ir.Table, others: Others, row: str) -> ir.Table:
        dealers = others["dealers"]
        joined = rows.inner_join(dealers, rows[O.dealer_id] == dealers[D.dealer_id])
        early = joined.filter(joined[O.order_date] < joined[D.signed_date] - ibis.interval(days=ORDER_BEFORE_SIGNING_DAYS))
        return early.select(row=early[row], ordered=_day(early[O.order_date]), signed=_day(early[D.signed_date]))

    return Rule(
        name="order_after_signing", table="orders", reads=(O.dealer_id, O.order_date), order=99,
        reads_tables=("dealers",), find=find,
        reason=f"order_date {{ordered}} is more than {ORDER_BEFORE_SIGNING_DAYS} days before the dealer's signed_date "
               "{signed}",
    )  # fmt: skip


def rules_of(table: str) -> list[Rule]:
    """The rules between rows of ``table``, in the order their reasons are given."""
    out = []
    key = schema.key_of(table)
    if key:
        out.append(_unique_key(table, key))
    for order, (column, (ref_table, ref_column)) in enumerate(schema.references(table).items(), start=1):
        out.extend(_reference(table, column, ref_table, ref_column, order))
    if table == "orders":
        out.append(_ordered_after_signing())
    return out


RULES: dict[str, list[Rule]] = {table: rules_of(table) for table in schema.TABLES}  # the catalogue


def run_rules(con: ibis.BaseBackend, table: str, rows: ir.Table, others: Others, *, row: str = "source_row") -> pd.DataFrame:
    """The rules of ``table`` that apply (their columns in ``rows``, their other tables in
    ``others``), run on ``con`` → one row per reason found: ``row``, ``order`` (of the rule) and
    ``reason``, in rule order."""
    found = []
    for rule in RULES[table]:
        if not set(rule.reads) <= set(rows.columns) or not set(rule.reads_tables) <= set(others):
            continue
        hits = con.to_pyarrow(rule.find(rows, others, row)).to_pandas()
        if len(hits):
            reasons = rule.reasons(hits)
            found.append(pd.DataFrame({"row": reasons.index.to_numpy(), "order": rule.order,
                                       "reason": reasons.to_numpy(dtype=object)}))  # fmt: skip
    if not found:
        return pd.DataFrame({"row": pd.Series([], dtype="int64"), "order": pd.Series([], dtype="int64"),
                             "reason": pd.Series([], dtype=object)})  # fmt: skip
    return pd.concat(found, ignore_index=True)


def memtable(frame: pd.DataFrame) -> ibis.Table:
    """A frame as an in-memory table of the engine (text columns as text, even when all empty)."""
    with warnings.catch_warnings():
        # ibis 12 reads pandas' deprecated `future.infer_string` option on every column
        warnings.filterwarnings("ignore", message=".*future.infer_string", module="ibis")
        return ibis.memtable(frame)


def quarantined_ids(ids: set) -> pd.DataFrame:
    """Ids found only among a table's quarantined rows, as the one-column frame the reference
    rules read (``id``, text)."""
    return pd.DataFrame({"id": pd.Series(sorted(str(v) for v in ids), dtype="str")})
