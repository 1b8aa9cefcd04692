"""The HTML reports: runner, the month's data for the pages, sections, plots, export to one self-contained page."""
