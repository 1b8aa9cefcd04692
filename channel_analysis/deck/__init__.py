"""The management deck (``deck.pptx``): the figures it shows, the slides, native charts and the canvas."""

from channel_analysis.deck.build import DECK_NAME, SLIDES, build_deck

__all__ = ["DECK_NAME", "SLIDES", "build_deck"]
