"""Everything a reader reads: the label catalogues (en, zh), the one formatter, the early warning's sentences."""
