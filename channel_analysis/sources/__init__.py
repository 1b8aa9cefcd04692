"""Finding and reading the contract's tables, before validation: folders of CSV, Parquet (files or
folders of parts) and Excel files, DuckDB and SQLite files, SQLAlchemy URLs, a PostgreSQL snapshot,
and the same tables as Ibis tables for the engine.
"""

from importlib import import_module

_PUBLIC = {
    "read_source": "channel_analysis.sources.read",
    "parquet_tables": "channel_analysis.sources.read",
    "Source": "channel_analysis.sources.tables",
    "RawTable": "channel_analysis.sources.tables",
    "WORKBOOK": "channel_analysis.sources.tables",
    "ParquetTable": "channel_analysis.sources.parquet",
    "PASSWORD_ENV": "channel_analysis.sources.database",
    "postgres_url": "channel_analysis.sources.postgres",
    "ibis_tables": "channel_analysis.sources.engine",
    "contract_tables": "channel_analysis.sources.engine",
    "source_tables": "channel_analysis.sources.engine",
    "ENGINE_COLUMNS": "channel_analysis.sources.engine",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    # imported on first use: a notebook that needs one name does not load the whole stage
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
