"""The prepared folder a run writes once and every report reads (accepted tables and the month's
figures, checked by checksum), and the partial reads of its large tables.
"""

from importlib import import_module

_PUBLIC = {
    "write_prepared_source": "channel_analysis.store.prepared",
    "read_prepared_source": "channel_analysis.store.prepared",
    "load_source": "channel_analysis.store.prepared",
    "is_prepared": "channel_analysis.store.prepared",
    "PreparedTables": "channel_analysis.store.views",
    "table_part": "channel_analysis.store.views",
    "table_view": "channel_analysis.store.views",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    # imported on first use: a notebook that needs one name does not load the whole stage
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
