"""Who asks, and which question of the guide each interviewer turn asks.

Pure functions over records: :func:`infer_roles` tells the interviewer from the
candidate for any speaker labels, :func:`segment_questions` turns the transcript
into question entries (``bank`` / ``followup`` / ``offscript``) with the
candidate's answer to each. Cut-offs come from :class:`MatchingThresholds`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from .errors import TranscriptError
from .matching import QuestionMatcher, normalize, question_by_id
from .nlp import detect_language
from .records import QuestionEntry, Transcript, Turn
from .rubric import Question, Rubric
from .thresholds import MatchingThresholds

_SENTENCE = re.compile(r"[^.!?…]+[.!?…]*")
_WINDOW_WORDS = 14
# Words of bare probes («что ещё?», "what else?"): a turn made only of these
# continues whatever is being discussed, even if the guide's silent-client
# cascade uses the same words.
_PROBE_WORDS = set("еще ещё дальше потом а и ну ок окей хорошо else next then more so and ok okay well not n't no".split())
_WINDOW_STEP = 7


@dataclass(frozen=True)
class Cues:
    interrogative: tuple[str, ...]
    probe: tuple[str, ...]
    offscript: tuple[str, ...]


@lru_cache(maxsize=1)
def load_cues() -> dict[str, Cues]:
    """Conversation cues per language from ``analyzer/lang/cues.yaml``."""
    path = Path(str(resources.files("analyzer") / "lang" / "cues.yaml"))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        lang: Cues(
            interrogative=tuple(str(x).lower() for x in data[lang]["interrogative"]),
            probe=tuple(str(x).lower() for x in data[lang]["probe"]),
            offscript=tuple(str(x).lower() for x in data[lang]["offscript"]),
        )
        for lang in ("ru", "en")
    }


def _has_phrase(text: str, phrases: tuple[str, ...], prefix: bool = False) -> bool:
    """Whole-word match of any phrase; ``prefix`` lets a phrase be a word's start."""
    for phrase in phrases:
        pattern = r"(?<!\w)" + re.escape(phrase).replace(r"\ ", r"\s+") + ("" if prefix else r"(?!\w)")
        if re.search(pattern, text):
            return True
    return False


@dataclass
class TurnMatch:
    """What one interviewer-side turn looks like to the matcher."""

    words: int
    content_words: int  # words left after stop words and probe words: 0-1 means a bare probe
    is_question: bool
    has_probe: bool
    offscript_cue: bool
    scores: dict[str, tuple[float, str]] = field(default_factory=dict)  # qid → (sim, bank text)

    def best(self, among: set[str] | None = None) -> tuple[str | None, float, str | None]:
        items = [(qid, v) for qid, v in self.scores.items() if among is None or qid in among]
        if not items:
            return None, 0.0, None
        qid, (sim, text) = max(items, key=lambda kv: kv[1][0])
        return qid, sim, text


def _units(text: str, language: str) -> tuple[list[str], list[float]]:
    """Normalized sentences (plus word windows over long, unpunctuated ones) and their weights.

    The whole turn counts in full; a single sentence of it counts less the
    fewer content words it has, so a bare «Что будешь делать?» inside a case
    setup cannot outscore the case itself by matching a short generic probe.
    """
    units: list[str] = []
    weights: list[float] = []
    whole = normalize(text, language)
    if whole:
        units.append(whole)
        weights.append(1.0)
    sentences = _SENTENCE.findall(text)
    for sentence in sentences if len(sentences) > 1 or len(whole.split()) > _WINDOW_WORDS else ():
        norm = normalize(sentence, language)
        tokens = norm.split()
        if not norm or norm in units:
            continue
        units.append(norm)
        weights.append(min(1.0, (len(tokens) + 1) / 5))
        if len(tokens) > _WINDOW_WORDS:
            for i in range(0, len(tokens) - _WINDOW_WORDS + _WINDOW_STEP, _WINDOW_STEP):
                units.append(" ".join(tokens[i : i + _WINDOW_WORDS]))
                weights.append(1.0)
    return units, weights


def match_turn(text: str, matcher: QuestionMatcher, language: str) -> TurnMatch:
    """Score one turn against every bank question (best over its sentences)."""
    cues = load_cues()[language]
    lower = " ".join(text.lower().replace("ё", "е").split())
    lower_yo = " ".join(text.lower().split())
    words = len(lower.split())
    first_words = " ".join(lower.split()[:6])
    is_question = (
        "?" in text
        or _has_phrase(lower_yo, cues.interrogative)
        or _has_phrase(first_words, cues.interrogative)
    )
    units, weights = _units(text, language)
    scores: dict[str, tuple[float, str]] = {}
    if units:
        sims = _similarities(matcher, units) * np.asarray(weights)[:, None]
        best_rows = sims.max(axis=0)
        for j, value in enumerate(best_rows):
            qid = str(matcher.labels_[j])
            if qid not in scores or value > scores[qid][0]:
                scores[qid] = (float(value), matcher.texts_[j])
    content = [w for w in whole_norm.split() if w not in _PROBE_WORDS] if (whole_norm := normalize(text, language)) else []
    return TurnMatch(
        words=words,
        content_words=len(content),
        is_question=is_question,
        has_probe=_has_phrase(lower, tuple(p.replace("ё", "е") for p in cues.probe)),
        offscript_cue=_has_phrase(lower, tuple(p.replace("ё", "е") for p in cues.offscript), prefix=True),
        scores=scores,
    )


def _similarities(matcher: QuestionMatcher, normalized: list[str]) -> np.ndarray:
    word = (matcher.word_vectorizer_.transform(normalized) @ matcher.word_vectors_.T).toarray()
    char = (matcher.char_vectorizer_.transform(normalized) @ matcher.char_vectors_.T).toarray()
    return (1 - matcher.char_weight) * word + matcher.char_weight * char


def infer_roles(
    transcript: Transcript,
    matches: list[TurnMatch],
    thresholds: MatchingThresholds,
    interviewer: str | None = None,
) -> tuple[str, str]:
    """(interviewer label, candidate label).

    The interviewer is the speaker whose turns ask the bank's questions; talk
    time alone would mislead (an interviewer setting up a case talks at length,
    a candidate asks questions at the end). ``interviewer`` overrides.

    Raises:
        TranscriptError: when ``interviewer`` is not a speaker of the transcript.
    """
    speakers = transcript.speakers
    words = {s: 0 for s in speakers}
    score = {s: 0.0 for s in speakers}
    for turn, match in zip(transcript.turns, matches):
        words[turn.speaker] += match.words
        _, sim, _ = match.best()
        if match.is_question:
            score[turn.speaker] += 1.0
        if sim >= thresholds.bank_min_similarity and match.words <= 80:
            score[turn.speaker] += 2.0 * sim
    if interviewer is not None:
        if interviewer not in speakers:
            raise TranscriptError(
                f"--interviewer {interviewer!r} is not a speaker here; speakers: {', '.join(speakers)}",
                transcript.source,
            )
        chosen = interviewer
    else:
        # Normalise by turn count so that a talkative candidate's many turns do not win.
        chosen = max(speakers, key=lambda s: (score[s] - words[s] / 400.0, -speakers.index(s)))
    others = [s for s in speakers if s != chosen]
    candidate = max(others, key=lambda s: words[s])
    return chosen, candidate


def _thread_ids(question: Question | None, by_id: dict[str, Question]) -> set[str]:
    """The bank question and all its follow-ups (its thread)."""
    if question is None:
        return set()
    root = question
    while root.parent is not None:
        root = by_id[root.parent]
    return {q.id for q in by_id.values() if _root_of(q, by_id) == root.id}


def _root_of(question: Question, by_id: dict[str, Question]) -> str:
    while question.parent is not None:
        question = by_id[question.parent]
    return question.id


def segment_questions(
    transcript: Transcript,
    rubric: Rubric,
    matcher: QuestionMatcher,
    thresholds: MatchingThresholds,
    *,
    interviewer: str | None = None,
    language: str | None = None,
) -> tuple[list[QuestionEntry], str, str]:
    """Split the conversation into question entries with the candidate's answers.

    Returns:
        (entries, interviewer label, candidate label).
    """
    language = language or transcript.language or detect_language(transcript.text)
    matches = [match_turn(t.text, matcher, language) for t in transcript.turns]
    interviewer_label, candidate_label = infer_roles(transcript, matches, thresholds, interviewer)
    by_id = question_by_id(rubric)
    roots = {q.id for q in rubric.questions if q.parent is None}

    entries: list[dict] = []
    answers: list[list[Turn]] = []
    thread: Question | None = None  # the bank question being probed
    thread_entry: int | None = None
    for index, (turn, match) in enumerate(zip(transcript.turns, matches)):
        if turn.speaker == candidate_label:
            if answers:
                answers[-1].append(turn)
            continue
        if turn.speaker != interviewer_label and len(transcript.speakers) > 2:
            continue  # a third voice (a second interviewer is still interviewer-side)
        qid, sim, text = match.best()
        asks = match.is_question or sim >= thresholds.bank_min_similarity
        if not asks:
            continue
        kind, question = "offscript", None
        thread_ids = _thread_ids(thread, by_id)
        in_id, in_sim, in_text = match.best(thread_ids) if thread_ids else (None, 0.0, None)
        # Outside the current thread only the guide's opening questions compete: a
        # probe of another question («А какая твоя роль была?») asked here probes this one.
        out_id, out_sim, out_text = match.best(roots - thread_ids)
        any_id, any_sim, any_text = match.best(set(match.scores) - thread_ids)
        short_probe = match.has_probe and match.words <= thresholds.followup_max_words
        outside_wins = (out_sim >= thresholds.bank_min_similarity and out_sim - in_sim >= 0.15) or (
            any_sim >= thresholds.new_question_min_similarity and any_sim - in_sim >= 0.15 and match.content_words > 1
        )
        if match.offscript_cue and max(in_sim, out_sim) < thresholds.new_question_min_similarity:
            kind = "offscript"
        elif (thread is not None and in_sim >= thresholds.followup_min_similarity and in_sim >= out_sim - 0.05
              and in_sim >= any_sim - 0.25):
            kind, question = "followup", by_id[in_id]
            qid, sim, text = in_id, in_sim, in_text
        elif thread is not None and not outside_wins and (short_probe or out_sim < thresholds.bank_min_similarity):
            # Interviews go topic by topic: inside a topic, a question that opens no
            # other question of the guide and is no logistics probes the current one.
            kind, question = "followup", thread
            qid, sim, text = thread.id, in_sim, in_text
        elif out_id is not None and out_sim >= thresholds.bank_min_similarity:
            kind, question = "bank", by_id[out_id]
            qid, sim, text = out_id, out_sim, out_text
        elif any_id is not None and any_sim >= thresholds.new_question_min_similarity:
            # a probe of the guide asked on its own opens its question's topic
            kind, question = "bank", by_id[any_id]
            qid, sim, text = any_id, any_sim, any_text
        if kind == "offscript":
            entry = dict(kind="offscript", competency=None, question_id=None, matched_text=None, similarity=sim, parent=None)
            thread, thread_entry = None, None
        elif kind == "bank":
            entry = dict(kind="bank", competency=question.competency, question_id=question.id, matched_text=text, similarity=sim, parent=None)
            thread, thread_entry = by_id[_root_of(question, by_id)], len(entries)
        else:
            entry = dict(kind="followup", competency=thread.competency, question_id=question.id, matched_text=text, similarity=sim, parent=thread_entry)
        entry.update(index=len(entries), asked=turn.text, start=turn.start, end=turn.end, turn_index=index)
        entries.append(entry)
        answers.append([])

    out = []
    for entry, answer_turns in zip(entries, answers):
        out.append(
            QuestionEntry(
                answer=" ".join(t.text for t in answer_turns),
                answer_start=answer_turns[0].start if answer_turns else None,
                answer_end=answer_turns[-1].end if answer_turns else None,
                **entry,
            )
        )
    return out, interviewer_label, candidate_label


def answer_turns(transcript: Transcript, entries: list[QuestionEntry], candidate: str) -> list[list[Turn]]:
    """The candidate turns that make up each entry's answer, in order."""
    bounds = [e.turn_index for e in entries] + [len(transcript.turns)]
    return [
        [t for t in transcript.turns[bounds[i] + 1 : bounds[i + 1]] if t.speaker == candidate]
        for i in range(len(entries))
    ]
