"""Judging a source against the contract: value rules per row, the rules between rows, quarantine
and data quality, run in memory (:mod:`.memory`), a slice at a time for large Parquet sources
(:mod:`.stream`) or inside PostgreSQL (:mod:`.postgres`).
"""

from importlib import import_module

_PUBLIC = {
    "validate_source": "channel_analysis.validate.memory",
    "ValidatedSource": "channel_analysis.validate.memory",
    "data_quality": "channel_analysis.validate.quality",
    "write_quality": "channel_analysis.validate.quality",
    "validate_parquet": "channel_analysis.validate.stream",
    "large_parquet": "channel_analysis.validate.stream",
    "validate_postgres": "channel_analysis.validate.postgres",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    # imported on first use: a notebook that needs one name does not load the whole stage
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
