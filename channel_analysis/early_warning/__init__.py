"""The monthly early warning (DOMAIN §2.3): signals, alerts per dealer with their figures, a health score, evaluation."""

from channel_analysis.early_warning.monthly import *  # noqa: F403  (the names in its __all__)
from channel_analysis.early_warning.monthly import __all__  # noqa: F401
