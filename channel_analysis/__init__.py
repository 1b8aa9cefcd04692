"""channel-analysis: keep a manufacturer's dealer network healthy."""

from channel_analysis.errors import ChannelAnalysisError, SourceError

__version__ = "0.1.0"
__all__ = ["ChannelAnalysisError", "SourceError", "__version__"]
