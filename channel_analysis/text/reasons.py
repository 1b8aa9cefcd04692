"""The early warning's sentences, rendered from codes and figures in the reader's language.

A detector gives each alert its code (``alert``: ``purchase_stop``, ``purchase_drop`` …) and the
figures behind it (``figures``, a JSON object: months silent, orders against expected, the
region's change …); the health score gives each dealer the components that moved it
(``moved``: a JSON list of ``[component, points]``, or ``"new"`` / ``"left"``). Nothing here parses
a sentence: :func:`alert_reason` fills the catalogue's ``reason.<code>`` sentence with the
figures, :func:`why_changed` names the components. ``alerts.csv`` carries the English sentence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from channel_analysis.text.format import Text, missing, text_for

Figures = dict[str, Any]


def _window(t: Text, months: int) -> str:
    """"month" / "3 months" (en), "1个月" / "3个月" (zh): the window of an alert's figures."""
    return t.say("reason.last_month") if int(months) == 1 else t.say("reason.last_months", n=int(months))


def _chance(t: Text, p: float) -> str:
    return t.say("reason.chance_under") if p < 1e-4 else t.say("reason.chance", p=p)


_RENDER: dict[str, Callable[[Text, Figures, str], str]] = {
    "purchase_stop": lambda t, f, region: t.say(
        "reason.purchase_stop", last=f["last_order_month"], months=f["months_silent"], share=f["ordering_share"],
        rhythm=f["rhythm_months"], chance=_chance(t, f["p_silence"]), region=region, market=f["market"],
    ),
    "purchase_drop": lambda t, f, region: t.say(
        "reason.purchase_drop", orders=f["orders"], amount=f["amount"], window=_window(t, f["window"]),
        expected=f["expected_orders"], expected_amount=f["expected_amount"], region=region, market=f["market"],
    ),
    "calls_spike": lambda t, f, region: t.say(
        "reason.calls_spike", calls=f["calls"], window=_window(t, f["window"]), usual=f["usual"]
    ),
    "calls_drop": lambda t, f, region: t.say("reason.calls_drop", calls=f["calls"], usual=f["usual"]),
    "below_peers": lambda t, f, region: t.say("reason.below_peers", change=f["change"], z=f["z"]),
    "no_reorder": lambda t, f, region: t.say("reason.no_reorder", months=f["months"]),
}  # fmt: skip
CODES = tuple(_RENDER)  # every alert whose sentence the catalogues hold


def alert_reason(code: str, figures: Figures | str, lang: str = "en", *, region: str = "") -> str:
    """One alert's sentence in ``lang``: the catalogue's ``reason.<code>`` filled with its
    ``figures`` (a dict, or the JSON text of the alerts frame)."""
    if isinstance(figures, str):
        figures = json.loads(figures)
    return _RENDER[code](text_for(lang), figures, region)


def alert_reasons(alerts: pd.DataFrame, lang: str = "en") -> pd.Series:
    """An alerts frame (``alert``, ``figures``, ``region``) → each row's sentence in ``lang``."""
    texts = [alert_reason(code, figures, lang, region=region)
             for code, figures, region in zip(alerts["alert"], alerts["figures"], alerts["region"])]  # fmt: skip
    return pd.Series(texts, index=alerts.index, dtype=object)


def why_changed(moved: Any, lang: str = "en") -> str:
    """What moved a dealer's health score since last month, in words: ``Recency -12, Level -3``,
    ``New this month``, ``Left the network``; empty when nothing moved it by 2 points."""
    t = text_for(lang)
    moves = _moves(moved)
    if isinstance(moves, str):
        return t.label({"new": "new_this_month", "left": "left_the_network"}[moves])
    return t.join([f"{t.label('component_' + name)} {t.signed(points)}" for name, points in moves])


def why_changed_code(moved: Any) -> str:
    """The same in the CSV's compact code form: ``recency -12, level -3``, ``new this month``,
    ``left the network`` (``dealer_health.csv``'s ``why_changed``)."""
    moves = _moves(moved)
    if isinstance(moves, str):
        return {"new": "new this month", "left": "left the network"}[moves]
    return ", ".join(f"{name} {points:+.0f}" for name, points in moves)


def _moves(moved: Any) -> list[tuple[str, float]] | str:
    if missing(moved) or moved == "":
        return []
    value = json.loads(moved) if isinstance(moved, str) else moved
    return value if isinstance(value, str) else [(str(name), float(points)) for name, points in value]
