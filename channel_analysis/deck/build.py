"""The management deck (``deck.pptx``): ten slides a manager can present as they are.

    from channel_analysis.figures.month import figures_of_month
    build_deck(figures_of_month(validated.tables, Month("2025-12"), settings=Settings()), staging,
               lang="zh", template=Path("company.pptx"))

Slides: title; the network at a glance; what changed since last month; the most urgent
at-risk dealers and their owners; acquisition vs retention costs; the prospect funnel; the
sales-manager scorecard; the service flow; dealer events; actions for next month. Charts are
native PowerPoint charts (their data editable, their colours changeable); every slide's
speaker notes give the figures behind it. With ``template``, the deck uses that
presentation's slide size, masters and layouts (title slide, title only / title and
content, blank — found by name, English or Chinese, else by their placeholders), and its
own slides are removed. Every figure comes from the month's figures
(:class:`~channel_analysis.figures.month.MonthFigures`), every word and number from the text
layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from channel_analysis.deck import operations as ops
from channel_analysis.deck import slides as ds
from channel_analysis.deck.canvas import Canvas
from channel_analysis.deck.figures import DeckData
from channel_analysis.errors import ParameterError
from channel_analysis.figures.month import MonthFigures
from channel_analysis.text.labels import check_lang

__all__ = ["DECK_NAME", "SLIDES", "build_deck"]

DECK_NAME = "deck.pptx"
SLIDES = (
    ds.title_slide,
    ds.glance_slide,
    ds.changes_slide,
    ds.at_risk_slide,
    ds.costs_slide,
    ds.funnel_slide,
    ops.scorecard_slide,
    ops.service_slide,
    ops.events_slide,
    ops.actions_slide,
)


def build_deck(figures: Any, path: Path, *, lang: str = "en", template: Path | None = None) -> Path:
    """The month's figures → the management deck; returns the file written.

    ``figures``: :class:`~channel_analysis.figures.month.MonthFigures`, or anything carrying them
    as ``.figures`` (a report's ``MonthData``). ``path``: the ``.pptx`` to write, or a folder to
    write ``deck.pptx`` into. ``lang``: ``"en"`` or ``"zh"``. ``template``: a ``.pptx`` whose
    masters and layouts to build on.
    """
    check_lang(lang)
    if template is not None and not Path(template).is_file():
        raise ParameterError(f"deck template '{template}' not found: give the path of a .pptx file")
    month = figures if isinstance(figures, MonthFigures) else getattr(figures, "figures", None)
    if not isinstance(month, MonthFigures):
        raise TypeError("build_deck needs the month's figures (MonthFigures) or an object carrying them as .figures")
    data = DeckData(month, lang)
    path = Path(path)
    out = path if path.suffix.lower() == ".pptx" else path / DECK_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        canvas = Canvas(Path(template) if template else None, lang)
    except Exception as exc:  # python-pptx raises several kinds for a file that is not a presentation
        raise ParameterError(f"deck template '{template}' cannot be opened as a PowerPoint file: {exc}") from None
    for slide in SLIDES:
        slide(canvas, data)
    canvas.prs.save(str(out))
    return out
