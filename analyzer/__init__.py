"""Local-first interview analyzer: a transcript or a recording in, rubric evidence per competency out.

The tool surfaces evidence with quotes and times; a person decides. It never
scores voice, accent, emotion or appearance.
"""

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    AnalyzerError,
    AudioError,
    InputError,
    ModelNotAvailable,
    RubricError,
    StoreError,
    ThresholdsError,
    TranscriptError,
)
from .pipeline import analyze_file, analyze_transcript  # noqa: E402
from .records import CompetencySummary, QuestionEntry, Report, Signal, Transcript, Turn, Word  # noqa: E402
from .report import flag_rows, to_csv, to_json, to_markdown  # noqa: E402
from .rubric import Rubric, load_rubric  # noqa: E402
from .signals import detect_signals, load_rules  # noqa: E402
from .thresholds import Thresholds, load_thresholds  # noqa: E402
from .transcripts import read_transcript, write_transcript  # noqa: E402

__all__ = [
    "__version__",
    "AnalyzerError",
    "AudioError",
    "CompetencySummary",
    "InputError",
    "ModelNotAvailable",
    "QuestionEntry",
    "Report",
    "Rubric",
    "RubricError",
    "Signal",
    "StoreError",
    "Thresholds",
    "ThresholdsError",
    "Transcript",
    "TranscriptError",
    "Turn",
    "Word",
    "analyze_file",
    "analyze_transcript",
    "detect_signals",
    "flag_rows",
    "load_rubric",
    "load_rules",
    "load_thresholds",
    "read_transcript",
    "to_csv",
    "to_json",
    "to_markdown",
    "write_transcript",
]
