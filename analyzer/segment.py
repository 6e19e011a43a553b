"""Who asks, and which question of the guide each interviewer turn asks.

Pure functions over records: :func:`infer_roles` tells the interviewer from the
candidate for any speaker labels, :func:`segment_questions` turns the transcript
into question entries (``bank`` / ``followup`` / ``offscript``) with the
candidate's answer to each. Cut-offs come from :class:`MatchingThresholds`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from .errors import TranscriptError
from .matching import OFFSCRIPT, PROBE, QuestionMatcher, TopicClassifier, content_words, normalize, question_by_id
from .nlp import detect_language
from .records import QuestionEntry, Transcript, Turn
from .rubric import Question, Rubric
from .thresholds import MatchingThresholds

_LOG = logging.getLogger(__name__)
_SENTENCE = re.compile(r"[^.!?…]+[.!?…]*")
_WINDOW_WORDS = 14
# Words of bare probes («что ещё?», "what else?"): a turn made only of these
# continues whatever is being discussed, even if the guide's silent-client
# cascade uses the same words.
_PROBE_WORDS = set("еще ещё дальше потом а и ну ок окей хорошо else next then more so and ok okay well not n't no".split())
_WINDOW_STEP = 7
_WINDOWS = ((_WINDOW_WORDS, _WINDOW_STEP), (6, 3))
_ASKING_TAIL = 20  # words: the end of an unpunctuated turn, where the question is said
_BARE_QUESTION_WORDS = 1  # content words of a question that asks nothing by itself («Ваши действия?»)
_LEADING = {"а", "и", "ну", "так", "and", "so", "but", "well", "oh", "ok", "okay"}


@dataclass(frozen=True)
class Cues:
    interrogative: tuple[str, ...]
    probe: tuple[str, ...]
    offscript: tuple[str, ...]
    topic_change: tuple[str, ...]


@lru_cache(maxsize=1)
def load_cues() -> dict[str, Cues]:
    """Conversation cues per language from ``analyzer/lang/cues.yaml``."""
    path = Path(str(resources.files("analyzer") / "lang" / "cues.yaml"))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        lang: Cues(
            interrogative=tuple(str(x).lower() for x in data[lang]["interrogative"]),
            # matched on text with «ё» written «е», as ASR and many people write it
            probe=tuple(str(x).lower().replace("ё", "е") for x in data[lang]["probe"]),
            offscript=tuple(str(x).lower().replace("ё", "е") for x in data[lang]["offscript"]),
            topic_change=tuple(str(x).lower().replace("ё", "е") for x in data[lang]["topic_change"]),
        )
        for lang in ("ru", "en")
    }


@lru_cache(maxsize=64)
def _phrase_regex(phrases: tuple[str, ...], prefix: bool) -> re.Pattern[str]:
    """One alternation regex per cue list, compiled once."""
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(phrases, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + body + ")" + ("" if prefix else r"(?!\w)"))


def _has_phrase(text: str, phrases: tuple[str, ...], prefix: bool = False) -> bool:
    """Whole-word match of any phrase; ``prefix`` lets a phrase be a word's start."""
    return bool(phrases) and _phrase_regex(phrases, prefix).search(text) is not None


@dataclass
class TurnMatch:
    """What one interviewer-side turn looks like to the matcher."""

    words: int
    content_words: int  # words left after stop words and probe words: 0-1 means a bare probe
    is_question: bool
    has_probe: bool
    offscript_cue: bool  # a logistics / small-talk cue in what the turn asks
    offscript_aside: bool  # such a cue anywhere, the lead-in too ("I love the coffee bit. Okay, learning…")
    topic_change: bool  # «давайте сменим тему», "moving on": a new question, never a probe
    scores: dict[str, tuple[float, str]] = field(default_factory=dict)  # qid → (sim, bank text)
    # the same when the topic is known from the conversation (see QuestionMatcher.similarities_normalized)
    context_scores: dict[str, tuple[float, str]] = field(default_factory=dict)
    # competency (or ``offscript``) → probability, from the topic classifier; empty without one
    topic: dict[str, float] = field(default_factory=dict)

    def top_topic(self) -> tuple[str | None, float]:
        """The most probable competency (small talk aside) and its probability."""
        items = [(c, p) for c, p in self.topic.items() if c not in (OFFSCRIPT, PROBE)]
        return max(items, key=lambda kv: kv[1]) if items else (None, 0.0)

    def best(self, among: set[str] | None = None, in_context: bool = False) -> tuple[str | None, float, str | None]:
        scores = self.context_scores if in_context else self.scores
        items = [(qid, v) for qid, v in scores.items() if among is None or qid in among]
        if not items:
            return None, 0.0, None
        qid, (sim, text) = max(items, key=lambda kv: kv[1][0])
        return qid, sim, text


def _units(text: str, language: str) -> tuple[list[str], list[float]]:
    """Normalized parts of a turn to compare with the bank, and their weights.

    The whole turn comes first and counts in full. Then each sentence, each pair
    of neighbouring sentences (a case setup spreads over several), and word
    windows over long unpunctuated stretches. A sentence counts less the fewer
    content words it has (a bare «Что будешь делать?» inside a case must not
    outscore the case), and a statement counts less than a question when the
    turn has one («Перейдём к работе с клиентами. Вспомните, когда клиент был
    недоволен…» asks about the unhappy client, not about working with clients).
    """
    units: list[str] = []
    weights: list[float] = []
    whole = normalize(text, language)
    if whole:
        units.append(whole)
        weights.append(1.0)
    sentences = [x.strip() for x in _SENTENCE.findall(text) if x.strip()]
    if len(sentences) <= 1 and len(whole.split()) <= _WINDOW_WORDS:
        return units, weights
    asks = [_is_question_sentence(x, language) for x in sentences]
    normalized = [normalize(x, language) for x in sentences]
    # A case set up in statements and closed by a bare «Ваши действия?» / "Thoughts?" asks about
    # the case: its statements count in full.
    any_question = any(asks) and any(
        sum(1 for w in content_words(norm, language) if w not in _PROBE_WORDS) > _BARE_QUESTION_WORDS
        for norm, ask in zip(normalized, asks) if ask)
    for i, norm in enumerate(normalized):
        tokens = norm.split()
        if not norm:
            continue
        statement = 0.65 if any_question and not asks[i] else 1.0
        if norm not in units:
            units.append(norm)
            weights.append(min(1.0, (len(tokens) + 1) / 5) * statement)
        if i + 1 < len(normalized) and normalized[i + 1]:
            units.append(f"{norm} {normalized[i + 1]}")
            weights.append(1.0 if asks[i] or asks[i + 1] or not any_question else 0.65)
        # Windows; in speech-to-text without question marks also small ones: a question said
        # in one breath at the end of a long stretch («…ладно вернёмся к тебе как ты с клиентом доверие
        # выстраиваешь») is only a few content words.
        if len(tokens) > _WINDOW_WORDS:
            for size, step in _WINDOWS if "?" not in text else _WINDOWS[:1]:
                for j in range(0, len(tokens) - size + step, step):
                    units.append(" ".join(tokens[j : j + size]))
                    weights.append(statement)
    return units, weights


def _is_question_sentence(sentence: str, language: str) -> bool:
    if sentence.rstrip().endswith("?"):
        return True
    first = " ".join(sentence.lower().split()[:4])
    return _has_phrase(first, load_cues()[language].interrogative)


def _asking_part(text: str) -> str:
    """The part of a turn that asks: its question sentences, or the last words of
    an unpunctuated stretch. A cue in the lead-in ("I love the coffee bit.",
    "…then you can ask me whatever. So why are you leaving?") says what the
    interviewer reacted to or announced, not what they ask."""
    if "?" in text:
        return " ".join(x for x in _SENTENCE.findall(text) if x.rstrip().endswith("?"))
    words = text.split()
    return " ".join(words[-_ASKING_TAIL:])


def _ends_with_bare_probe(text: str, language: str) -> bool:
    """Whether a turn's last sentence is a bare «Что-то ещё?» / "Anything else?"."""
    sentences = [x.strip() for x in _SENTENCE.findall(text) if x.strip()]
    if not sentences:
        return False
    last = sentences[-1]
    words = [w for w in normalize(last, language).split() if w not in _PROBE_WORDS]
    probe = _has_phrase(last.lower().replace("ё", "е"), load_cues()[language].probe)
    return len(words) <= 1 and len(last.split()) <= 6 and probe


def _asks_back(text: str, language: str, punctuated: bool) -> bool:
    """Whether a candidate's turn ends by asking the interviewer something."""
    sentences = [x.strip() for x in _SENTENCE.findall(text) if x.strip()]
    if not sentences:
        return False
    if punctuated:
        return sentences[-1].endswith("?")
    # Unpunctuated speech: a short turn that opens with a question word («а какой у вас…»),
    # not one that only has one later («потому что…»).
    words = [w.strip(",.;:") for w in text.lower().split()]
    while words and words[0] in _LEADING:
        words = words[1:]
    return 0 < len(words) <= 25 and _has_phrase(" ".join(words[:2]), load_cues()[language].interrogative) and (
        _has_phrase(words[0], load_cues()[language].interrogative)
    )


def _bank_groups(matcher: QuestionMatcher) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """The bank's columns ordered by question id: (order, group starts, group ends, ids)."""
    labels = np.asarray([str(x) for x in matcher.labels_])
    order = np.argsort(labels, kind="stable")
    qids, starts = np.unique(labels[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    return order, starts, ends, [str(q) for q in qids]


def match_turns(texts: list[str], matcher: QuestionMatcher, language: str,
                classifier: TopicClassifier | None = None) -> list[TurnMatch]:
    """Score turns against every bank question, in one vectorized pass."""
    cues = load_cues()[language]
    all_units: list[str] = []
    all_weights: list[float] = []
    partial: list[bool] = []
    spans: list[tuple[int, int]] = []
    for text in texts:
        # A long answer is no question; its first sentences are enough to tell roles apart.
        units, weights = _units(text if len(text) < 1500 else text[:1500], language)
        spans.append((len(all_units), len(all_units) + len(units)))
        all_units += units
        all_weights += weights
        partial += ([False] + [True] * (len(units) - 1)) if units else []  # the whole turn comes first
    sims = context = None
    if all_units:
        sims, context = matcher.similarities_normalized(all_units, partial, with_context=True)
        sims *= np.asarray(all_weights)[:, None]
        context *= np.asarray(all_weights)[:, None]
    order, starts, ends, qids = _bank_groups(matcher)
    # the topic of each whole turn (the first unit of its span)
    topics = classifier.topics([all_units[a] if b > a else "" for a, b in spans]) if classifier is not None else []
    out = []
    for number, (text, (a, b)) in enumerate(zip(texts, spans)):
        lower = " ".join(text.lower().replace("ё", "е").split())
        lower_yo = " ".join(text.lower().split())
        words = len(lower.split())
        asking = _asking_part(lower)
        is_question = (
            "?" in text
            or _has_phrase(lower_yo, cues.interrogative)
            or _has_phrase(" ".join(lower.split()[:6]), cues.interrogative)
        )
        scores: dict[str, tuple[float, str]] = {}
        context_scores: dict[str, tuple[float, str]] = {}
        content = 0
        if b > a:
            for matrix, into in ((sims, scores), (context, context_scores)):
                # the best wording of each question: a max per group of the bank's columns
                best_rows = matrix[a:b].max(axis=0)[order]
                maxima = np.maximum.reduceat(best_rows, starts)
                for g in np.argsort(-maxima):
                    lo, hi = starts[g], ends[g]
                    j = order[lo + int(np.argmax(best_rows[lo:hi]))]
                    into[qids[g]] = (float(maxima[g]), matcher.texts_[j])
            content = sum(1 for w in all_units[a].split() if w not in _PROBE_WORDS)
        out.append(
            TurnMatch(
                words=words,
                content_words=content,
                is_question=is_question,
                has_probe=_has_phrase(lower, cues.probe),
                offscript_cue=_has_phrase(asking, cues.offscript, prefix=True),
                offscript_aside=_has_phrase(lower, cues.offscript, prefix=True),
                topic_change=_has_phrase(lower, cues.topic_change),
                scores=scores,
                context_scores=context_scores,
                topic=topics[number] if topics and b > a else {},
            )
        )
    return out


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
    if len(speakers) < 2:
        raise TranscriptError(
            f"only one speaker ({speakers[0] if speakers else 'none'}) in this transcript; an interview needs the "
            "interviewer and the candidate apart (for a recording: a stereo file with one speaker per channel "
            "separates them exactly)",
            transcript.source,
        )
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
    turns = {s: sum(1 for t in transcript.turns if t.speaker == s) for s in speakers}
    # The candidate answers: of the others, the one who asks least per turn (a panel's
    # second interviewer asks too), then the one who says most.
    candidate = min(others, key=lambda s: (round(score[s] / max(turns[s], 1), 1), -words[s]))
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


def _best_in_competency(match: TurnMatch, competency: str, rubric: Rubric) -> tuple[str, float, str | None]:
    """The guide question of a competency a turn matches best: an opening question,
    by its plain similarity, then with the topic known; the competency's first
    question when no wording of it is shared at all."""
    roots = [q.id for q in rubric.questions if q.parent is None and q.competency == competency]
    for in_context in (False, True):
        qid, sim, text = match.best(set(roots), in_context=in_context)
        if qid is not None and sim > 0:
            return qid, sim, text
    return roots[0], 0.0, None


def _topic_override(match: TurnMatch, kind: str, question: Question | None, current: tuple[str | None, float, str | None],
                    branch: str, thread: Question | None, short_probe: bool, by_id: dict[str, Question], rubric: Rubric,
                    thresholds: MatchingThresholds) -> tuple[str, Question | None, str | None, float, str | None, str]:
    """Let the topic classifier correct what similarity decided (see :class:`TopicClassifier`).

    A turn it surely gives to another competency than the current topic's opens
    that competency's question ("So, totally normal question, but what's making you
    want to leave Bright Harbor?" inside the silent-client case); a probe matched
    by wording needs a surer call, as probes borrow words from everywhere. A weak
    match of another question that the classifier reads as a probe stays in the
    open topic. A turn it surely calls small talk is off-script unless the bank
    matched it well.
    """
    qid, sim, text = current
    top, p_top = match.top_topic()
    elsewhere = (top is not None and (thread is None or top != thread.competency)
                 and match.content_words >= 2 and not short_probe)
    weak_bank = kind == "bank" and sim < thresholds.new_question_min_similarity
    if elsewhere and (
        (p_top >= thresholds.topic_new_min_probability
         and (kind == "offscript" or branch == "thread_default" or (weak_bank and question.competency != top)))
        or (p_top >= thresholds.topic_reassign_min_probability and branch in ("thread_wording", "same_topic"))
    ):
        qid, sim, text = _best_in_competency(match, top, rubric)
        return "bank", by_id[qid], qid, sim, text, "topic"
    if (kind == "bank" and thread is not None and branch in ("new", "probe_alone") and sim < thresholds.new_question_min_similarity
            and match.topic.get(PROBE, 0.0) >= thresholds.topic_followup_min_probability):
        # "Let's say you go, and they still won't engage. Where does that leave you?" shares
        # "leave" with the why-left question; it reads as a probe and there is a topic open.
        return "followup", thread, thread.id, sim, text, "topic_probe"
    if match.topic.get(OFFSCRIPT, 0.0) >= thresholds.topic_offscript_min_probability and (
            weak_bank or (branch == "thread_default" and match.content_words >= 2)):
        return "offscript", None, qid, sim, text, "topic_offscript"
    return kind, question, qid, sim, text, branch


def segment_questions(
    transcript: Transcript,
    rubric: Rubric,
    matcher: QuestionMatcher,
    thresholds: MatchingThresholds,
    *,
    interviewer: str | None = None,
    language: str | None = None,
    classifier: TopicClassifier | None = None,
) -> tuple[list[QuestionEntry], str, str]:
    """Split the conversation into question entries with the candidate's answers.

    Returns:
        (entries, interviewer label, candidate label).
    """
    language = language or transcript.language or detect_language(transcript.text)
    matches = match_turns([t.text for t in transcript.turns], matcher, language, classifier)
    interviewer_label, candidate_label = infer_roles(transcript, matches, thresholds, interviewer)
    by_id = question_by_id(rubric)
    roots = {q.id for q in rubric.questions if q.parent is None}

    entries: list[dict] = []
    answers: list[list[Turn]] = []
    thread: Question | None = None  # the bank question being probed
    thread_entry: int | None = None
    joined: dict[str, int] = {}  # root id → entry: guide questions of the same topic asked as probes of this one
    # Speech-to-text output often has no question marks: there a turn that draws a
    # long answer asked something, whatever its words.
    punctuated = any("?" in t.text for t in transcript.turns)
    turns = transcript.turns
    candidate_asking = False  # the candidate's last turn asked the interviewer something
    for index, (turn, match) in enumerate(zip(turns, matches)):
        if turn.speaker == candidate_label:
            if answers:
                answers[-1].append(turn)
            candidate_asking = _asks_back(turn.text, language, punctuated)
            continue
        # Everyone but the candidate is interviewer-side: a panel's recruiter asks too.
        qid, sim, text = match.best()
        draws_answer = (
            not punctuated
            and match.content_words >= 2
            and index + 1 < len(turns)
            and turns[index + 1].speaker == candidate_label
            and len(turns[index + 1].text.split()) >= 15
        )
        asks = match.is_question or sim >= thresholds.bank_min_similarity or draws_answer
        if not asks:
            continue
        answering_back, candidate_asking = candidate_asking, False
        kind, question = "offscript", None
        thread_ids = _thread_ids(thread, by_id).union(*(_thread_ids(by_id[q], by_id) for q in joined))
        # Inside a topic its own probes are read with the topic known.
        in_id, in_sim, in_text = match.best(thread_ids, in_context=True) if thread_ids else (None, 0.0, None)
        # Outside the current thread only the guide's opening questions compete: a
        # probe of another question («А какая твоя роль была?») asked here probes this one.
        out_id, out_sim, out_text = match.best(roots - thread_ids)
        # A specific probe of another topic («what did you make your money on?») also
        # points at that topic, a little less surely; it opens that topic only when
        # nothing else claims the turn.
        lift_id, lift_sim, lift_text = None, 0.0, None
        if match.content_words > 1:
            for qid, (value, text_) in match.scores.items():
                if qid not in roots and qid not in thread_ids and value * 0.9 > lift_sim:
                    lift_id, lift_sim, lift_text = qid, value * 0.9, text_
        any_id, any_sim, any_text = match.best(set(match.scores) - thread_ids)
        # The best question of the current topic's competency outside its thread (a probe
        # the guide files under a neighbouring question of the same topic).
        same_id, same_sim, same_text = None, 0.0, None
        if thread is not None:
            for cand_id, cand_sim, cand_text in ((out_id, out_sim, out_text), (lift_id, lift_sim, lift_text)):
                if cand_id is not None and by_id[cand_id].competency == thread.competency and cand_sim > same_sim:
                    same_id, same_sim, same_text = cand_id, cand_sim, cand_text
        short_probe = match.has_probe and match.words <= thresholds.followup_max_words
        outside_wins = (
            (out_sim >= thresholds.bank_min_similarity and out_sim - in_sim >= 0.15)
            or (any_sim >= thresholds.new_question_min_similarity and any_sim - in_sim >= 0.15 and match.content_words > 1)
            or (lift_sim >= thresholds.bank_min_similarity and lift_sim - in_sim >= 0.15 and not short_probe)
        )
        # The best new question: an opening question of the guide, or a probe of another topic.
        new_id, new_sim, new_text = (lift_id, lift_sim, lift_text) if lift_sim > out_sim else (out_id, out_sim, out_text)
        # After the candidate's own question, a bare «Что-то ещё?» invites more of theirs.
        bare_after_their_question = answering_back and _ends_with_bare_probe(turn.text, language)
        logistics = (
            (match.offscript_cue and max(in_sim, out_sim, lift_sim) < thresholds.new_question_min_similarity)
            or (match.offscript_aside and max(in_sim, out_sim) < thresholds.bank_min_similarity)
        )
        branch = "unmatched"
        if logistics or bare_after_their_question:
            kind, branch = "offscript", "logistics"
        elif match.topic_change:
            # «Давайте сменим тему»: a new question of the guide, or none of it; never a probe.
            # A probe of another question («А с руководителем как?») opens a topic only when
            # it says clearly which: "by the way, which CRM…" is no guide question at all.
            pick = (new_id, new_sim, new_text) if new_sim >= thresholds.bank_min_similarity else (any_id, any_sim, any_text)
            if pick[0] is not None and pick[1] >= (thresholds.bank_min_similarity if pick[0] == new_id
                                                   else thresholds.new_question_min_similarity):
                kind, question = "bank", by_id[pick[0]]
                qid, sim, text = pick
            branch = "topic_change"
        elif (thread is not None and in_sim >= thresholds.followup_min_similarity and in_sim >= out_sim - 0.05
              and in_sim >= any_sim - 0.25):
            kind, question, branch = "followup", by_id[in_id], "thread_wording"
            qid, sim, text = in_id, in_sim, in_text
        elif (thread is not None and not outside_wins and turn.speaker == interviewer_label
              and (short_probe or out_sim < thresholds.bank_min_similarity)):
            # Interviews go topic by topic: inside a topic, a question that opens no
            # other question of the guide and is no logistics probes the current one.
            kind, question, branch = "followup", thread, "thread_default"
            qid, sim, text = thread.id, in_sim, in_text if in_sim >= thresholds.followup_min_similarity else None
        elif (thread is not None and same_id is not None and same_sim >= thresholds.bank_min_similarity
              and same_sim >= max(out_sim, lift_sim)
              and (match.has_probe or by_id[same_id].parent is not None) and turn.speaker == interviewer_label):
            # «А как ты применил это на практике?» right after «Чему ты научился?»: the guide lists
            # them apart, the interviewer asks the second as a probe of the first.
            kind, question, branch = "followup", by_id[same_id], "same_topic"
            qid, sim, text = same_id, same_sim, same_text
        elif new_id is not None and new_sim >= thresholds.bank_min_similarity:
            kind, question, branch = "bank", by_id[new_id], "new"
            qid, sim, text = new_id, new_sim, new_text
        elif any_id is not None and any_sim >= thresholds.new_question_min_similarity:
            # a probe of the guide asked on its own opens its question's topic
            kind, question, branch = "bank", by_id[any_id], "probe_alone"
            qid, sim, text = any_id, any_sim, any_text
        if match.topic and branch not in ("logistics", "topic_change"):
            kind, question, qid, sim, text, branch = _topic_override(
                match, kind, question, (qid, sim, text), branch, thread, short_probe, by_id, rubric, thresholds)
        if kind == "followup" and branch == "same_topic":
            joined[_root_of(question, by_id)] = len(entries)  # its own probes now belong here too
        if _LOG.isEnabledFor(logging.DEBUG):
            _LOG.debug("%r → %s %s | thread %s:%.2f root %s:%.2f probe-of-other %s:%.2f any %s:%.2f | probe=%s topic=%s "
                       "logistics=%s after-their-question=%s | topic %s", turn.text[:70], kind, question.id if question else None,
                       in_id, in_sim, out_id, out_sim, lift_id, lift_sim, any_id, any_sim, match.has_probe,
                       match.topic_change, match.offscript_cue, answering_back,
                       sorted(((round(p, 2), c) for c, p in match.topic.items()), reverse=True)[:3])
        if kind == "offscript":
            entry = dict(kind="offscript", competency=None, question_id=None, matched_text=None, similarity=sim, parent=None)
            # A side question ("by the way, which CRM was that?") leaves the topic open for
            # its next probe; once the candidate asks their own questions the guide is over.
            if answering_back or bare_after_their_question:
                thread, thread_entry, joined = None, None, {}
        elif kind == "bank":
            entry = dict(kind="bank", competency=question.competency, question_id=question.id, matched_text=text, similarity=sim, parent=None)
            thread, thread_entry, joined = by_id[_root_of(question, by_id)], len(entries), {}
        else:
            root = _root_of(question, by_id)
            parent = joined[root] if root in joined and joined[root] != len(entries) else thread_entry
            entry = dict(kind="followup", competency=thread.competency, question_id=question.id, matched_text=text, similarity=sim, parent=parent)
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
