"""The demo worlds: a synthetic dealer network in the data contract's shape, with its planted truth (see :mod:`.world`)."""

from channel_analysis.synthetic.world import *  # noqa: F403  (the names in its __all__)
from channel_analysis.synthetic.world import __all__  # noqa: F401
