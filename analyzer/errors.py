"""Exceptions raised by the analyzer.

Hierarchy::

    AnalyzerError
    ├── InputError          a file cannot be read or has the wrong content
    │   ├── TranscriptError a transcript is empty, binary, unknown or has one speaker
    │   └── AudioError      a recording cannot be decoded or holds no usable speech
    ├── RubricError         a rubric or rules file is invalid
    ├── ThresholdsError     a thresholds file is invalid
    ├── ModelNotAvailable   a speech model is missing and nothing may be downloaded
    └── StoreError          the database refused an operation

Every message is one line that names the file (where there is one) and says what
to do next. The CLI prints it as ``error: <message>`` and exits with code 1.
"""

from __future__ import annotations

from pathlib import Path


class AnalyzerError(Exception):
    """Base class of every error the analyzer reports to a user."""

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = str(path) if path is not None else None
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class InputError(AnalyzerError):
    """An input file is missing, unreadable or of the wrong kind."""


class TranscriptError(InputError):
    """A transcript cannot be read or cannot be analysed."""


class AudioError(InputError):
    """A recording cannot be decoded or holds no usable speech."""


class RubricError(AnalyzerError):
    """A rubric or rules file does not follow the rubric schema."""


class ThresholdsError(AnalyzerError):
    """A thresholds file does not follow the thresholds schema."""


class ModelNotAvailable(AnalyzerError):
    """A speech model is not available locally and analysis never downloads."""


class StoreError(AnalyzerError):
    """The interview store refused an operation."""
