"""Plain records passed between pipeline stages.

Every stage takes and returns these frozen dataclasses; ``dataclasses.asdict``
turns them into the JSON of the transcript and of the report, and
``pd.DataFrame([asdict(s) for s in signals])`` into tables.

Times are seconds from the start of the recording (``None`` when the source has
no times, e.g. a plain-text transcript without timestamps).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Identifies the project's own JSON transcript (see ``transcripts.py``).
TRANSCRIPT_FORMAT = "interview-analyzer/transcript"
TRANSCRIPT_VERSION = 1
#: Identifies the JSON report.
REPORT_FORMAT = "interview-analyzer/report"
REPORT_VERSION = 1

INTERVIEWER = "interviewer"
CANDIDATE = "candidate"


@dataclass(frozen=True)
class Word:
    """One recognised word with its time and the recogniser's confidence."""

    text: str
    start: float | None = None
    end: float | None = None
    probability: float | None = None  # faster-whisper word probability, 0..1


@dataclass(frozen=True)
class Turn:
    """What one speaker said without interruption.

    ``speaker`` is the label of the source (a name, «Интервьюер», ``SPEAKER_00``);
    ``confidence`` is how sure the speaker attribution is (1.0 for a labelled
    transcript or a channel-separated recording; lower for acoustic clustering).
    """

    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    words: tuple[Word, ...] = ()
    confidence: float | None = None


@dataclass(frozen=True)
class Transcript:
    """A whole conversation as turns, in order."""

    turns: tuple[Turn, ...]
    language: str | None = None  # "ru", "en" or None when unknown
    source: str | None = None  # file it was read from or transcribed from
    duration_s: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def speakers(self) -> list[str]:
        """Speaker labels in order of first appearance."""
        seen: dict[str, None] = {}
        for turn in self.turns:
            seen.setdefault(turn.speaker, None)
        return list(seen)

    @property
    def text(self) -> str:
        return "\n".join(t.text for t in self.turns)

    def to_dict(self) -> dict[str, Any]:
        """The project's JSON transcript (schema in the README)."""
        return {
            "format": TRANSCRIPT_FORMAT,
            "version": TRANSCRIPT_VERSION,
            "language": self.language,
            "source": self.source,
            "duration_s": self.duration_s,
            "metadata": dict(self.metadata),
            "turns": [
                {
                    "speaker": t.speaker,
                    "start": t.start,
                    "end": t.end,
                    "text": t.text,
                    **({"confidence": t.confidence} if t.confidence is not None else {}),
                    **({"words": [asdict(w) for w in t.words]} if t.words else {}),
                }
                for t in self.turns
            ],
        }


@dataclass(frozen=True)
class Signal:
    """One piece of rubric evidence found in a candidate answer.

    ``start_char``/``end_char`` index into the answer text of its question entry;
    ``start``/``end`` are times in the recording when words carry times.
    ``score`` is compared with the signal's threshold in ``models/thresholds.yaml``;
    ``value`` carries a count or a polarity for the signals that have one
    (``persistence``: number of distinct actions; ``followup_attitude``:
    ``positive``/``negative``).
    """

    signal: str
    rule_id: str
    text: str
    start_char: int
    end_char: int
    score: float
    start: float | None = None
    end: float | None = None
    value: Any = None
    low_confidence: bool = False


@dataclass(frozen=True)
class QuestionEntry:
    """One interviewer turn that asks something, with the candidate's answer.

    ``kind`` is ``bank`` (matches a question of the guide), ``followup`` (a
    probe that continues the previous bank question and inherits its
    competency) or ``offscript`` (small talk, logistics, questions outside the
    guide; competency ``None``).
    """

    index: int
    asked: str
    kind: str
    competency: str | None
    question_id: str | None
    matched_text: str | None
    similarity: float
    start: float | None
    end: float | None
    answer: str
    answer_start: float | None = None
    answer_end: float | None = None
    parent: int | None = None  # index of the bank entry a follow-up continues
    turn_index: int = 0
    signals: tuple[Signal, ...] = ()
    low_confidence: bool = False


@dataclass(frozen=True)
class CompetencySummary:
    """What a reviewer sees for one competency."""

    competency: str
    name: str
    questions: int
    asked: tuple[dict[str, Any], ...]  # {question_id, text, entries: [entry index]}
    skipped: tuple[dict[str, Any], ...]  # {question_id, text}
    signals: dict[str, int]
    signals_present: tuple[str, ...]
    signals_absent: tuple[str, ...]
    evidence: tuple[dict[str, Any], ...]
    level: str  # not_asked | insufficient | none | some | strong
    answer_words: int = 0
    score: float = 0.0
    persistence: int | None = None
    followup_attitude: str | None = None


@dataclass(frozen=True)
class Report:
    """The analysis of one interview: the contract shared by CLI, app and store."""

    language: str
    speakers: dict[str, str | None]
    provenance: dict[str, Any]
    questions: tuple[QuestionEntry, ...]
    competencies: tuple[CompetencySummary, ...]
    figures: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "version": REPORT_VERSION,
            "source": self.source,
            "language": self.language,
            "speakers": dict(self.speakers),
            "provenance": dict(self.provenance),
            "figures": dict(self.figures),
            "questions": [asdict(q) for q in self.questions],
            "competencies": [asdict(c) for c in self.competencies],
        }
