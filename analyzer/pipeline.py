"""The analysis path from a transcript to a report, shared by the CLI, the app and the notebooks.

:func:`analyze_transcript` is pure: it takes loaded objects (transcript, rubric,
thresholds, rules) and returns a :class:`~analyzer.records.Report`.
:func:`analyze_file` is the convenience wrapper that loads everything from paths.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from pathlib import Path
from typing import Callable

from . import __version__
from .matching import get_matcher, get_topic_classifier, question_by_id
from .nlp import detect_language, get_nlp
from .records import QuestionEntry, Report, Signal, Transcript, Turn
from .report import build_summaries, conversation_figures
from .rubric import QUESTION_SPECIFIC, Rubric, load_rubric
from .segment import answer_turns, segment_questions
from .signals import RuleSet, count_actions, detect_signals, load_rules
from .thresholds import Thresholds, load_thresholds
from .transcripts import read_transcript

class _Timeline:
    """Maps character offsets of an answer (its turns joined by spaces) to recording times.

    Built once per answer: each word is located in its turn's text, so a lookup
    is a binary search, not a scan (a 50,000-word turn used to take seconds per
    flag). Words without times take a time interpolated inside their turn.
    """

    def __init__(self, turns: list[Turn]):
        self.turns = turns
        self.offsets: list[int] = []
        self.word_chars: list[list[int]] = []
        pos = 0
        for turn in turns:
            self.offsets.append(pos)
            chars, at = [], 0
            for word in turn.words:
                token = word.text.strip()
                found = turn.text.find(token, at) if token else -1
                at = found if found >= 0 else at
                chars.append(at)
                at += len(token)
            self.word_chars.append(chars)
            pos += len(turn.text) + 1

    @staticmethod
    def _interpolated(turn: Turn, local: int) -> float | None:
        if turn.start is not None and turn.end is not None and turn.text:
            return round(turn.start + min(1.0, local / len(turn.text)) * (turn.end - turn.start), 2)
        return turn.start

    def at(self, char: int, *, end: bool = False) -> tuple[float | None, float | None, float | None]:
        """(time, recogniser probability, attribution confidence) at a character offset."""
        i = max(0, bisect_right(self.offsets, char) - 1)
        turn = self.turns[i]
        local = char - self.offsets[i]
        if turn.words:
            word = turn.words[max(0, bisect_right(self.word_chars[i], local) - 1)]
            time = word.end if end else word.start
            if time is None:
                time = self._interpolated(turn, local)
            return time, word.probability, turn.confidence
        return self._interpolated(turn, local), None, turn.confidence


def _place(signal: Signal, timeline: _Timeline, thresholds: Thresholds) -> Signal:
    if not timeline.turns:
        return signal
    start, p_start, attribution = timeline.at(signal.start_char)
    end, p_end, _ = timeline.at(max(signal.start_char, signal.end_char - 1), end=True)
    if start is not None and end is not None and end < start:
        end = start
    low = any(p is not None and p < thresholds.confidence.low_word_probability for p in (p_start, p_end)) or (
        attribution is not None and attribution < thresholds.confidence.low_attribution
    )
    return dataclasses.replace(signal, start=start, end=end, low_confidence=low)


def _allowed_signals(entry: QuestionEntry, entries: list[QuestionEntry], rubric: Rubric) -> set[str]:
    """Every general signal, plus the question-specific ones its question asks for."""
    allowed = {s for s in rubric.signals if s not in QUESTION_SPECIFIC}
    if entry.question_id is None:
        return allowed
    by_id = question_by_id(rubric)
    qids = [entry.question_id]
    if entry.parent is not None:
        qids.append(entries[entry.parent].question_id)
    for qid in qids:
        q = by_id.get(qid) if qid else None
        while q is not None:
            allowed.update(s for s in q.signals if s in QUESTION_SPECIFIC)
            q = by_id.get(q.parent) if q.parent else None
    return allowed


def analyze_transcript(
    transcript: Transcript,
    rubric: Rubric | None = None,
    thresholds: Thresholds | None = None,
    rules: RuleSet | None = None,
    *,
    language: str = "auto",
    interviewer: str | None = None,
) -> Report:
    """Analyse one interview transcript.

    Args:
        transcript: the conversation (any reader's or the transcriber's output).
        rubric: the interview guide; the packaged Account Manager guide by default.
        thresholds: cut-offs; ``models/thresholds.yaml`` by default.
        rules: signal rules; the packaged ``signals.yaml`` by default.
        language: ``auto``, ``ru`` or ``en``.
        interviewer: the interviewer's speaker label, overriding the inference.

    Returns:
        The report: question entries with signals, per-competency summaries,
        conversation figures and provenance.
    """
    rubric = rubric or load_rubric()
    thresholds = thresholds or load_thresholds()
    rules = rules or load_rules()
    if language not in ("auto", "ru", "en"):
        raise ValueError(f"language must be auto, ru or en, not {language!r}")
    lang = language if language != "auto" else (transcript.language or detect_language(transcript.text))
    matcher = get_matcher(rubric)
    entries, interviewer_label, candidate_label = segment_questions(
        transcript, rubric, matcher, thresholds.matching, interviewer=interviewer, language=lang,
        classifier=get_topic_classifier(rubric),
    )
    nlp = get_nlp(lang)
    turns_by_entry = answer_turns(transcript, entries, candidate_label)
    docs = list(nlp.pipe(e.answer for e in entries))
    analysed: list[QuestionEntry] = []
    for entry, doc, turns in zip(entries, docs, turns_by_entry):
        timeline = _Timeline(turns)
        # Small talk and logistics are no evidence of a competency.
        found = [] if entry.kind == "offscript" else detect_signals(doc, rules, lang, signals=_allowed_signals(entry, entries, rubric))
        # Only flags that pass their threshold reach the report; calibration re-runs
        # with lower thresholds to see the rest.
        placed = tuple(_place(s, timeline, thresholds) for s in found if s.score >= thresholds.signal(s.signal))
        asked_turn = transcript.turns[entry.turn_index]
        low = asked_turn.confidence is not None and asked_turn.confidence < thresholds.confidence.low_attribution
        analysed.append(dataclasses.replace(entry, signals=placed, low_confidence=low))
    analysed = _persistence_over_threads(analysed, docs, rules, lang)
    summaries = build_summaries(analysed, rubric, thresholds, lang)
    return Report(
        language=lang,
        speakers={"interviewer": interviewer_label, "candidate": candidate_label},
        provenance={
            "analyzer_version": __version__,
            "rubric_id": rubric.id,
            "rubric_version": rubric.version,
            "rubric_sha256": rubric.sha256,
            "rules_version": rules.version,
            "thresholds_version": thresholds.version,
            "thresholds_sha256": thresholds.sha256,
            "transcript_metadata": dict(transcript.metadata),
        },
        questions=tuple(analysed),
        competencies=tuple(summaries),
        figures=conversation_figures(transcript, analysed, interviewer_label, candidate_label),
        source=transcript.source,
    )


def _persistence_over_threads(entries: list[QuestionEntry], docs, rules: RuleSet, lang: str) -> list[QuestionEntry]:
    """Persistence is one count over the case question and all its probes, on the case question."""
    out = list(entries)
    for i, entry in enumerate(entries):
        own = [s for s in entry.signals if s.signal == "persistence"]
        if entry.kind != "bank" or not own:
            continue
        thread = [i] + [j for j, e in enumerate(entries) if e.kind == "followup" and e.parent == i]
        rule = next(r for r in rules.for_language(lang) if r.signal == "persistence")
        actions: set[str] = set()
        for j in thread:
            actions.update(count_actions(docs[j], rule))
        total = len(actions)
        signals = tuple(dataclasses.replace(s, value=total) if s.signal == "persistence" else s for s in entry.signals)
        out[i] = dataclasses.replace(entry, signals=signals)
        for j in thread[1:]:  # the count lives on the case question only
            out[j] = dataclasses.replace(out[j], signals=tuple(s for s in out[j].signals if s.signal != "persistence"))
    return out


def analyze_file(
    path: str | Path,
    *,
    rubric_path: str | Path | None = None,
    thresholds_path: str | Path | None = None,
    language: str = "auto",
    interviewer: str | None = None,
    transcribe: Callable[[Path], Transcript] | None = None,
) -> tuple[Transcript, Report]:
    """Read (or transcribe) a file and analyse it.

    ``transcribe`` turns a recording into a transcript; transcripts are read
    directly. Returns the transcript too, so callers can store it.
    """
    from .transcripts import TRANSCRIPT_EXTENSIONS

    path = Path(path)
    if path.suffix.lower() in TRANSCRIPT_EXTENSIONS or transcribe is None:
        transcript = read_transcript(path)
    else:
        transcript = transcribe(path)
    report = analyze_transcript(
        transcript,
        load_rubric(rubric_path),
        load_thresholds(thresholds_path),
        load_rules(),
        language=language,
        interviewer=interviewer,
    )
    return transcript, report
