"""Invariants of validation over randomly damaged sources (hypothesis).

Whatever is wrong with the rows, every row read is either accepted or
quarantined with a reason, accepted ids are unique, every accepted
reference points at an accepted row, accepted rows keep the contract's
rules and types, and quarantined rows are kept exactly as read.
(Whole sources through the command line: test_source_properties.py.)
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings

from channel_analysis import schema
from channel_analysis.validate.memory import validate_source
from channel_analysis.validate.quality import data_quality
from helpers.damage import damaged_sources


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_sources())
def test_every_row_is_accepted_or_quarantined(source):
    validated = validate_source(source)
    quality = data_quality(validated).set_index("table")
    for table, raw in source.tables.items():
        good, bad = validated.tables[table], validated.quarantine[table]
        assert quality.loc[table, "rows_read"] == len(raw.frame)
        assert len(good) + len(bad) == len(raw.frame)
        assert set(good.index).isdisjoint(bad.index)
        assert set(good.index) | set(bad.index) == set(raw.frame.index)
        assert (bad["reason"].str.len() > 0).all()
        key = list(schema.key_of(table))
        assert not good.duplicated(subset=key).any()
        for col, (ref_table, ref_col) in schema.references(table).items():
            given_values = good[col].dropna()
            assert given_values.isin(validated.tables[ref_table][ref_col]).all(), (table, col)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_sources())
def test_validation_is_deterministic(source):
    first, second = validate_source(source), validate_source(source)
    for table in source.tables:
        pd.testing.assert_frame_equal(first.tables[table], second.tables[table])
        pd.testing.assert_frame_equal(first.quarantine[table], second.quarantine[table])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_sources())
def test_accepted_rows_keep_the_rules_and_quarantined_rows_are_as_read(source):
    validated = validate_source(source)
    for table, raw in source.tables.items():
        good, bad = validated.tables[table], validated.quarantine[table]
        model = schema.TABLES[table]
        model.validate(good)  # every value rule and row rule of the contract holds
        for name, column in schema.columns_of(table).items():
            kind = column.metadata["kind"]
            if name in good and kind in ("date", "timestamp"):
                assert pd.api.types.is_datetime64_any_dtype(good[name]), (table, name)
                years = good[name].dropna().dt.year
                assert years.between(1900, 2100).all(), (table, name)
                if kind == "date":
                    assert (good[name].dropna() == good[name].dropna().dt.normalize()).all(), (table, name)
            elif name in good and kind in ("text", "code"):
                given_values = good[name].dropna()
                assert (given_values == given_values.str.strip()).all() and (given_values != "").all(), (table, name)
        as_read = raw.frame.loc[bad.index]
        pd.testing.assert_frame_equal(bad.drop(columns="reason"), as_read, check_names=False)
