"""The error family: every error a user can cause says what was found and the fix.

The command line turns a :class:`ChannelAnalysisError` into one readable message
and the exit status given by its ``exit_status`` (2 for unusable input), never a
traceback.
"""

from __future__ import annotations


class ChannelAnalysisError(Exception):
    """Base class of every error the user can cause and fix."""

    exit_status = 1


class SourceError(ChannelAnalysisError):
    """The data source cannot be used: a table, column or file is missing or unreadable.

    ``problems`` holds one line per problem found, so one run reports all of them.
    """

    exit_status = 2

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"the data source cannot be used ({len(self.problems)} problems):\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message)


class StrictModeError(ChannelAnalysisError):
    """``--strict`` was given and some rows were quarantined."""

    exit_status = 2


class ParameterError(ChannelAnalysisError):
    """A command-line or notebook parameter is invalid (bad month, unknown option ...)."""

    exit_status = 2


class RunLockedError(ChannelAnalysisError):
    """Another run of the same month holds the lock."""

    exit_status = 1


class TooLittleData(ChannelAnalysisError):
    """A figure these data cannot give (too few dealers to observe, nothing that varies).

    The message is for the caller of the library; a report shows the reader's sentence
    instead: the label ``reason`` (``why.*`` in :mod:`channel_analysis.labels`) filled with
    ``values``, in the report's language.
    """

    def __init__(self, message: str, *, reason: str, **values: object):
        super().__init__(message)
        self.reason, self.values = reason, values
