"""The colours of the project's codes, the same in every chart of every page and slide:
a calm, colour-blind-safe palette whose first colour is the "actual" series everywhere, one
colour per status and severity, and one per code of each family (expense categories, event
kinds, process steps: a family of its own each, since "support" is in two of them)."""

from __future__ import annotations

from collections.abc import Sequence

from channel_analysis import schema

PALETTE = ["#1f5f8b", "#e07b39", "#3a9d5d", "#8e6bbf", "#c0392b", "#7f8c8d", "#d4a017", "#2bb0c4"]
STATUS_COLOURS = {"new": "#2bb0c4", "active": "#3a9d5d", "at_risk": "#e07b39", "dormant": "#7f8c8d", "lost": "#c0392b"}
SEVERITY_COLOURS = {"high": "#c0392b", "medium": "#e07b39", "low": "#d4a017"}
UNKNOWN = PALETTE[5]  # grey, for a code no family knows

_FAMILIES = {
    family: {code: PALETTE[k % len(PALETTE)] for k, code in enumerate(codes)}
    for family, codes in (("expense_category", schema.EXPENSE_CATEGORIES), ("event_kind", schema.EVENT_KINDS),
                          ("process", schema.PROCESSES))
}  # fmt: skip


def status_palette(keys: Sequence[str]) -> list[str]:
    """Colours for status or severity codes, in the order given (grey for an unknown code)."""
    colours = {**STATUS_COLOURS, **SEVERITY_COLOURS}
    return [colours.get(key, UNKNOWN) for key in keys]


def colours_of(codes: Sequence[str], family: str, prefix: str = "") -> list[str]:
    """The fixed colour of each code of ``family`` (``expense_category``, ``event_kind``,
    ``process``), in order; ``prefix`` is stripped first (``cat.travel`` → ``travel``)."""
    return [_FAMILIES[family].get(str(code).removeprefix(prefix), UNKNOWN) for code in codes]
