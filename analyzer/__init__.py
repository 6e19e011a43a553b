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
# Heavy parts (spaCy, scikit-learn) load on first use, so `import analyzer.store`
# or the CLI's --help stay fast.
_LAZY = {
    "analyze_file": "pipeline",
    "analyze_transcript": "pipeline",
    "CompetencySummary": "records",
    "QuestionEntry": "records",
    "Report": "records",
    "Signal": "records",
    "Transcript": "records",
    "Turn": "records",
    "Word": "records",
    "flag_rows": "report",
    "to_csv": "report",
    "to_json": "report",
    "to_markdown": "report",
    "Rubric": "rubric",
    "load_rubric": "rubric",
    "detect_signals": "signals",
    "load_rules": "signals",
    "Thresholds": "thresholds",
    "load_thresholds": "thresholds",
    "read_transcript": "transcripts",
    "write_transcript": "transcripts",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
