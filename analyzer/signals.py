"""Detect rubric signals in a candidate's answer, with the quote that proves each.

The rules are data (``analyzer/rubric/signals.yaml``): each has a versioned id,
the signal it finds, its language, a score and a kind. This module only applies
them. Kinds:

``match``
    spaCy Matcher token patterns (``patterns``), lower-case phrases (``phrases``)
    and lemma phrases (``lemmas``, so Russian inflection does not matter); a hit
    overlapped by an ``exclude`` phrase is dropped («как правило» is no analogy).
``sequence``
    ordered step markers (``steps``: rank → phrases); fires on a rank-1 marker
    followed by a later rank, or on ``min_markers`` later-rank markers.
``narrative``
    a past-tense account of one situation: at least ``min_past_verbs`` finite
    past verbs not under a conditional («бы», "would"), plus a specific anchor
    («однажды», "last year") or a result («в итоге», "in the end").
``metric``
    a number about an outcome: a number next to a unit (%, money, "x2") or a
    count/duration near an outcome word.
``density``
    terms without explanation (jargon): ``min_terms`` terms and no explainer.
``count``
    distinct actions named (persistence in the silent-client case).
``polarity``
    positive vs negative wording about a topic (attitude to follow-ups).

Sentences that end with a question mark are no evidence (a candidate who
repeats the interviewer's «например?» gives no example) unless a rule says
``in_questions: true`` (rhetorical questions carry attitude: «а если клиент забудет?»).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from .errors import RubricError
from .nlp import get_nlp
from .records import Signal
from .rubric import ALL_SIGNALS, load_yaml
from .weighing import SignalWeights, weigh_signals

def _lower(text: str) -> str:
    """Lower case that keeps every character's offset ("İ".lower() is two characters)."""
    lower = text.lower()
    return lower if len(lower) == len(text) else "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


RULE_KINDS = ("match", "sequence", "narrative", "metric", "density", "count", "polarity")


@dataclass(frozen=True)
class Rule:
    id: str
    signal: str
    lang: str
    kind: str
    score: float
    description: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    path: str | None = None

    def for_language(self, language: str) -> list[Rule]:
        return [r for r in self.rules if r.lang in (language, "any")]

    def only(self, *rule_ids: str) -> "RuleSet":
        return RuleSet(self.version, tuple(r for r in self.rules if r.id in rule_ids), self.path)


_RULE_ID = re.compile(r"^[a-z_]+\.[a-z0-9_]+\.v\d+$")


def parse_rules(data: Any, path: Path) -> RuleSet:
    """Validate a rules document; errors name the rule id and the bad key."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RubricError("a rules file needs a 'rules' list", path)
    rules = []
    seen = set()
    for i, item in enumerate(data["rules"]):
        if not isinstance(item, dict):
            raise RubricError(f"rules[{i}] must be a mapping", path)
        rid = item.get("id")
        where = f"rule {rid!r}" if rid else f"rules[{i}]"
        for key in ("id", "signal", "lang"):
            if not item.get(key):
                raise RubricError(f"{where}: missing required field '{key}'", path)
        if not _RULE_ID.match(rid):
            raise RubricError(f"{where}: id must look like 'signal.name.v1'", path)
        if rid in seen:
            raise RubricError(f"{where}: duplicate rule id", path)
        seen.add(rid)
        if item["signal"] not in ALL_SIGNALS:
            raise RubricError(f"{where}: unknown signal {item['signal']!r}", path)
        if item["lang"] not in ("ru", "en", "any"):
            raise RubricError(f"{where}: lang must be ru, en or any", path)
        kind = item.get("kind", "match")
        if kind not in RULE_KINDS:
            raise RubricError(f"{where}: unknown kind {kind!r}; expected {', '.join(RULE_KINDS)}", path)
        score = item.get("score", 0.8)
        if not isinstance(score, (int, float)) or not 0 < score <= 1:
            raise RubricError(f"{where}: score must be in (0, 1]", path)
        params = {k: v for k, v in item.items() if k not in ("id", "signal", "lang", "kind", "score", "description")}
        if kind == "match" and not any(params.get(k) for k in ("patterns", "phrases", "lemmas")):
            raise RubricError(f"{where}: a match rule needs 'patterns', 'phrases' or 'lemmas'", path)
        rules.append(Rule(rid, item["signal"], item["lang"], kind, float(score), str(item.get("description", "")), params))
    return RuleSet(version=str(data.get("version", "1")), rules=tuple(rules), path=str(path))


def default_rules_path() -> Path:
    return Path(str(resources.files("analyzer") / "rubric" / "signals.yaml"))


@lru_cache(maxsize=8)
def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load the signal rules (the packaged ``signals.yaml`` by default)."""
    path = Path(path) if path is not None else default_rules_path()
    return parse_rules(load_yaml(path), path)


class _Compiled:
    """Matchers of one language's rules, built once per (rule set, language)."""

    def __init__(self, rules: list[Rule], nlp: Language):
        self.nlp = nlp
        self.rules = {r.id: r for r in rules}
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.excl_lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.excl_lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.steps: dict[str, list[tuple[int, PhraseMatcher]]] = {}
        for rule in rules:
            p = rule.params
            try:
                if p.get("patterns"):
                    self.matcher.add(rule.id, p["patterns"])
            except Exception as exc:  # spaCy validates patterns
                raise RubricError(f"rule {rule.id!r}: invalid pattern ({str(exc).splitlines()[0]})") from None
            self._phrases(self.lower, rule.id, p.get("phrases"), lemma=False)
            self._phrases(self.lemma, rule.id, p.get("lemmas"), lemma=True)
            self._phrases(self.excl_lower, rule.id, p.get("exclude"), lemma=False)
            self._phrases(self.excl_lemma, rule.id, p.get("exclude_lemmas"), lemma=True)
            if rule.kind == "sequence":
                ranked = []
                for rank, phrases in sorted((int(k), v) for k, v in (p.get("steps") or {}).items()):
                    pm = PhraseMatcher(nlp.vocab, attr="LOWER")
                    self._phrases(pm, rule.id, phrases, lemma=False)
                    ranked.append((rank, pm))
                self.steps[rule.id] = ranked

    def _phrases(self, matcher: PhraseMatcher, key: str, phrases: list[str] | None, *, lemma: bool) -> None:
        if not phrases:
            return
        docs = [self.nlp(str(x)) if lemma else self.nlp.make_doc(str(x)) for x in phrases]
        matcher.add(key, docs)


@lru_cache(maxsize=16)
def _compiled(ruleset: RuleSet, language: str) -> _Compiled:
    return _Compiled(ruleset.for_language(language), get_nlp(language))


def _question_sentences(doc: Doc) -> set[int]:
    """Token indices inside sentences that end with '?'."""
    out: set[int] = set()
    for sent in doc.sents:
        if sent.text.rstrip().endswith("?"):
            out.update(range(sent.start, sent.end))
    return out


def _hit(rule: Rule, span: Span, score: float | None = None, value: Any = None) -> dict[str, Any]:
    return {"rule": rule, "span": span, "score": rule.score if score is None else score, "value": value}


def detect_signals(doc: Doc, ruleset: RuleSet, language: str, *, signals: set[str] | None = None,
                   weights: SignalWeights | bool = True) -> list[Signal]:
    """Apply the rules to one answer's Doc.

    Args:
        doc: the candidate's answer processed by :func:`analyzer.nlp.get_nlp`.
        ruleset: the rules (see :func:`load_rules`).
        language: ``ru`` or ``en``.
        signals: only these signal ids (all when ``None``).
        weights: the answer-level weights (:mod:`analyzer.weighing`): ``True`` for
            ``models/signal_weights.yaml``, ``False`` for the rule scores alone.

    Returns:
        One :class:`Signal` per hit, in text order; ``start``/``end`` times are
        left for the caller, who knows the words' times.
    """
    compiled = _compiled(ruleset, language)
    questions = _question_sentences(doc)
    hits: list[dict[str, Any]] = []

    excluded: dict[str, list[tuple[int, int]]] = {}
    for m in (compiled.excl_lower, compiled.excl_lemma):
        for key, start, end in m(doc):
            excluded.setdefault(doc.vocab.strings[key], []).append((start, end))

    def usable(rule: Rule, start: int, end: int) -> bool:
        if signals is not None and rule.signal not in signals:
            return False
        if not rule.params.get("in_questions") and any(i in questions for i in range(start, end)):
            return False
        return not any(s < end and start < e for s, e in excluded.get(rule.id, ()))

    seen: set[tuple[str, int, int]] = set()
    for m in (compiled.matcher, compiled.lower, compiled.lemma):
        for key, start, end in m(doc):
            rule = compiled.rules[doc.vocab.strings[key]]
            if rule.kind != "match" or (rule.id, start, end) in seen or not usable(rule, start, end):
                continue
            seen.add((rule.id, start, end))
            hits.append(_hit(rule, doc[start:end]))

    for rule in compiled.rules.values():
        if signals is not None and rule.signal not in signals:
            continue
        detector = _DETECTORS.get(rule.kind)
        if detector:
            hits.extend(h for h in detector(rule, doc, compiled) if usable(rule, h["span"].start, h["span"].end))

    hits = _dedupe(_aggregate(hits))
    hits.sort(key=lambda h: (h["span"].start_char, h["rule"].id))
    found = [
        Signal(
            signal=h["rule"].signal,
            rule_id=h["rule"].id,
            text=h["span"].text,
            start_char=h["span"].start_char,
            end_char=h["span"].end_char,
            score=round(float(h["score"]), 3),
            value=h["value"],
        )
        for h in hits
    ]
    if weights is False:
        return found
    return weigh_signals(found, None if weights is True else weights)


def _aggregate(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answer-level adjustments that rules ask for in their parameters.

    ``repeat_bonus``: each further hit of the same rule in the answer raises
    every hit's score by this much (one "I called" is weak evidence of
    ownership, three first-person actions are strong).
    ``suppressed_by``: the rule's hits are dropped when the answer holds a hit
    of one of these signals (an "I" that only passes things on while others
    decide is deflection, not ownership).
    """
    present = {h["rule"].signal for h in hits}
    per_rule: dict[str, int] = {}
    for h in hits:
        per_rule[h["rule"].id] = per_rule.get(h["rule"].id, 0) + 1
    out = []
    for h in hits:
        p = h["rule"].params
        if present & set(p.get("suppressed_by") or ()):
            continue
        bonus = float(p.get("repeat_bonus", 0.0)) * (per_rule[h["rule"].id] - 1)
        if bonus:
            h = {**h, "score": min(1.0, h["score"] + bonus)}
        out.append(h)
    return out


def _dedupe(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flag per stretch of words and signal: «сам позвонил» found by two
    ownership rules is shown to the reviewer once, by the stronger rule."""
    kept: list[dict[str, Any]] = []
    spans: dict[str, tuple[list[int], list[int]]] = {}  # signal -> sorted starts, their ends (kept never overlap)
    for h in sorted(hits, key=lambda h: (-h["score"], h["span"].start, h["rule"].id)):
        s, e = h["span"].start, h["span"].end
        starts, ends = spans.setdefault(h["rule"].signal, ([], []))
        i = bisect.bisect_left(starts, s)
        if (i > 0 and ends[i - 1] > s) or (i < len(starts) and starts[i] < e):
            continue
        starts.insert(i, s)
        ends.insert(i, e)
        kept.append(h)
    return kept


# --- detectors of the structural kinds -------------------------------------------------


def _is_past_verb(token, conditional: set[str]) -> bool:
    if "Past" not in token.morph.get("Tense") or token.pos_ not in ("VERB", "AUX"):
        return False
    window = token.doc[max(0, token.i - 2) : token.i + 3]
    return not any(t.lower_ in conditional for t in window)


def _sequence(rule: Rule, doc: Doc, compiled: _Compiled) -> list[dict[str, Any]]:
    p = rule.params
    stop_lemmas = set(p.get("not_after_lemmas") or ())
    markers = []
    for rank, pm in compiled.steps.get(rule.id, []):
        for _, start, end in pm(doc):
            follow = doc[end : end + 5]
            if any(t.lemma_.lower() in stop_lemmas for t in follow):
                continue  # "сначала работал в банке, потом перешёл" is a biography, not steps
            markers.append((start, end, rank))
    markers.sort()
    if len(markers) < 2:
        return []
    first_rank = next((i for i, m in enumerate(markers) if m[2] == 1), None)
    later = [m for m in markers if m[2] > 1 and (first_rank is None or m[0] > markers[first_rank][0])]
    if first_rank is not None and later:
        start, end = markers[first_rank][0], later[-1][1]
        score = min(1.0, rule.score + 0.1 * (len(later) - 1))
    elif len(later) >= int(p.get("min_markers", 3)):
        start, end = later[0][0], later[-1][1]
        score = float(p.get("score_without_first", rule.score * 0.75))
    else:
        return []
    span = doc[start:end]
    if len(span) > 40:  # quote the opening marker with its clause, not half the answer
        span = doc[start : min(end, start + 25)]
    return [_hit(rule, span, score)]


def _narrative(rule: Rule, doc: Doc, compiled: _Compiled) -> list[dict[str, Any]]:
    p = rule.params
    conditional = set(p.get("conditional") or ())
    past = [t for t in doc if _is_past_verb(t, conditional) and t.lemma_.lower() not in set(p.get("ignore_lemmas") or ())]
    if len(past) < int(p.get("min_past_verbs", 3)):
        return []
    lower = _lower(doc.text)
    anchors = [a for a in p.get("anchors") or () if re.search(r"(?<!\w)" + re.escape(a), lower)]
    results = [a for a in p.get("results") or () if re.search(r"(?<!\w)" + re.escape(a), lower)]
    habits = [a for a in p.get("habits") or () if re.search(r"(?<!\w)" + re.escape(a) + r"(?!\w)", lower)]
    score = rule.score
    score += float(p.get("anchor_bonus", 0.15)) * min(len(anchors), 2) + 0.1 * min(len(results), 1)
    score += float(p.get("past_verb_bonus", 0.03)) * min(len(past) - int(p.get("min_past_verbs", 3)), 6)
    score -= 0.15 * len(habits)
    if not anchors and not results:
        score -= float(p.get("no_anchor_penalty", 0.2))
    sent = past[0].sent
    return [_hit(rule, sent if len(sent) <= 40 else doc[sent.start : sent.start + 40], max(0.05, min(score, 1.0)))]


_NUMBER = re.compile(r"^\d+([.,]\d+)?$")


def _number_span(doc: Doc, tok) -> Span:
    """The quote of a number: two words before it and what it counts."""
    end = tok.i + 1
    while end < len(doc) and end < tok.i + 3 and not doc[end].is_punct:
        end += 1
    return doc[max(0, tok.i - 2) : end]


def _metric(rule: Rule, doc: Doc, compiled: _Compiled) -> list[dict[str, Any]]:
    """A number about an outcome.

    A number counts only with a change or achievement nearby («выросла на
    15%», "closed 12 deals", "cut churn by a third"): a price, a budget, a
    team size or a year alone is no outcome. A unit (%, money, times) makes it
    stronger; a bare count or duration is weaker.
    """
    p = rule.params
    units = {u.lower() for u in p.get("units") or ()}
    change = {c.lower() for c in p.get("change_lemmas") or ()}
    counted = {c.lower() for c in p.get("counted_lemmas") or ()}
    not_metric = {c.lower() for c in p.get("not_metric_lemmas") or ()}
    not_numbers = {c.lower() for c in p.get("not_numbers") or ()}
    duration_preps = {c.lower() for c in p.get("duration_preps") or ()}
    time_units = {c.lower() for c in p.get("time_units") or ()}
    ratio_words = {c.lower() for c in p.get("ratio_words") or ()}
    not_after = {c.lower() for c in p.get("not_after") or ()}
    multipliers = [m.lower() for m in p.get("multipliers") or ()]
    hypothetical = {h.lower() for h in p.get("hypothetical") or ()}
    hedges = [h.lower() for h in p.get("hedges") or ()]
    hedge_re = re.compile("|".join(r"(?<!\w)" + re.escape(h) + r"(?!\w)" for h in hedges)) if hedges else None

    def imagined(sent: Span) -> bool:
        """A sentence with an illustrative or hypothetical marker, hedges ("I'd say") aside."""
        if not hypothetical:
            return False
        text = _lower(sent.text)
        if hedge_re is not None:
            text = hedge_re.sub(" ", text)
        return any(t in hypothetical for t in re.findall(r"'\w+|\w+", text))

    fractions = {f.lower() for f in p.get("fractions") or ()}
    every = {e.lower() for e in p.get("every") or ()}
    unit_alone = p.get("unit_alone_score")
    past_duration = p.get("past_duration_score")
    result_preps = {c.lower() for c in p.get("result_duration_preps") or ()}
    duration_articles = {c.lower() for c in p.get("duration_articles") or ()}
    times_units = {c.lower() for c in p.get("times_units") or ()}
    times_before = {c.lower() for c in p.get("times_before") or ()}
    times_after = {c.lower() for c in p.get("times_after") or ()}
    window = int(p.get("window", 8))
    hits = []
    for tok in doc:
        text = tok.lower_
        # «треть», "half", «каждый пятый», "every third": a share, as good as a number with a unit
        fraction = (tok.lemma_.lower() in fractions or text in fractions) and not (
            tok.i + 1 < len(doc) and doc[tok.i + 1].text == "-")  # "half-done" is no share
        # «каждый пятый клиент» is a share; «каждые две недели» is how often
        fraction = fraction or (tok.like_num and tok.pos_ == "ADJ" and tok.i > 0 and doc[tok.i - 1].lemma_.lower() in every)
        # "within an hour", "in one day": an article counts as a number in a result's duration
        counted_article = (text in duration_articles and tok.i > 0 and doc[tok.i - 1].lower_ in result_preps
                           and tok.i + 1 < len(doc) and (doc[tok.i + 1].lemma_.lower() in time_units
                                                         or doc[tok.i + 1].lower_ in time_units))
        number = (bool(_NUMBER.match(tok.text)) or tok.text.startswith(("$", "€", "₽"))
                  or (tok.like_num and text not in not_numbers) or fraction or counted_article)
        if not number:
            continue
        after = doc[tok.i + 1 : tok.i + 3]
        before = doc[max(0, tok.i - 2) : tok.i]
        if re.fullmatch(r"(19|20)\d\d", tok.text) and not any(t.lower_ in units for t in after[:1]):
            continue  # a year
        # "за две минуты", "within three weeks": how fast a result came
        duration = any(t.lower_ in duration_preps for t in before) and any(
            t.lemma_.lower() in time_units or t.lower_ in time_units for t in after[:2]
        )
        if not duration and any(t.lemma_.lower() in not_metric or t.lower_ in not_metric for t in after[:2]):
            continue  # "2 детей", "5 лет опыта"
        if any(t.text == "-" for t in after) and all(t.is_alpha or t.text == "-" for t in doc[tok.i + 1 : tok.i + 4]):
            continue  # "a 30-minute call", "two half-done things": the number is part of a modifier
        if tok.i and (doc[tok.i - 1].lower_ in not_after or doc[tok.i - 1].lemma_.lower() in not_after):
            continue  # "step two", "вариант третий": an ordinal, not an amount
        if tok.i + 1 < len(doc) and doc[tok.i + 1].text == ":":
            continue  # "One: a call. Two: an email." is a numbered list
        if imagined(tok.sent):
            continue  # "say we bill ten thousand", «допустим, сто рублей»: an illustration, no outcome
        near = doc[max(0, tok.i - window) : tok.i + window]
        has_change = any(t.lemma_.lower() in change or t.lower_ in change for t in near)
        unit_words = [t for t in after[:2] if t.lower_ in units or t.lemma_.lower() in units]
        if unit_words and unit_words[0].lower_ in times_units:
            # «в два раза», "three times more" multiply; «два раза просила», "twice a day" count how often
            nxt = doc[unit_words[0].i + 1] if unit_words[0].i + 1 < len(doc) else None
            if not (any(t.lower_ in times_before for t in before[-1:])
                    or (nxt is not None and nxt.lower_ in times_after)):
                continue
        unit = (
            fraction
            or bool(unit_words)
            or tok.text.startswith(("$", "€", "₽"))
            or tok.text.endswith("%")
        )
        has_count = any(t.lemma_.lower() in counted or t.lower_ in counted for t in after)
        # "семь из девяти", "seven out of nine"
        ratio = any(t.lower_ in ratio_words for t in after[:2]) and tok.i + 2 < len(doc) and (
            doc[tok.i + 2].like_num or (tok.i + 3 < len(doc) and doc[tok.i + 3].like_num)
        )
        if not has_change and not ratio:
            # a share or an amount, or how long a result took, told about something that
            # happened ("retention was 95%", «сдали за два часа»): weaker than a change
            told = any(_is_past_verb(t, hypothetical) for t in tok.sent)
            if unit and unit_alone is not None and told:
                hits.append(_hit(rule, _number_span(doc, tok), float(unit_alone)))
            elif duration and past_duration is not None and told and any(t.lower_ in result_preps for t in before):
                hits.append(_hit(rule, _number_span(doc, tok), float(past_duration)))
            continue
        if unit or ratio:
            score = rule.score
        elif duration or has_count:
            score = rule.score - 0.15
        else:
            score = rule.score - 0.3
        hits.append(_hit(rule, _number_span(doc, tok), min(score, 1.0)))
    lower = _lower(doc.text)
    for m in multipliers:
        for found in re.finditer(r"(?<!\w)" + re.escape(m) + r"(?!\w)", lower):
            span = doc.char_span(found.start(), found.end(), alignment_mode="expand")
            if span is not None and not imagined(span[0].sent):
                hits.append(_hit(rule, span, rule.score))
    return hits


def _density(rule: Rule, doc: Doc, compiled: _Compiled) -> list[dict[str, Any]]:
    p = rule.params
    terms = {t.lower() for t in p.get("terms") or ()}
    prefixes = tuple(t.lower() for t in p.get("term_prefixes") or ())
    found = [t for t in doc if t.lower_ in terms or t.lemma_.lower() in terms or (prefixes and t.lower_.startswith(prefixes))]
    distinct = {t.lemma_.lower() for t in found}
    if len(distinct) < int(p.get("min_terms", 2)):
        return []
    lower = _lower(doc.text)
    explainers = [e for e in p.get("explainers") or () if re.search(r"(?<!\w)" + re.escape(e.lower()), lower)]
    words = max(1, sum(1 for t in doc if t.is_alpha))
    density = len(found) / words
    score = rule.score + min(0.3, density * 3) - 0.25 * len(explainers)
    if score <= 0:
        return []
    return [_hit(rule, doc[found[0].i : found[-1].i + 1] if found[-1].i - found[0].i < 25 else doc[found[0].i : found[0].i + 1], min(score, 1.0), sorted(distinct))]


_RU_PREFIXES = ("пере", "при", "до", "вы", "по", "на", "от", "за", "с")


def _action_key(lemma: str, russian: bool) -> str:
    """One key per action: «позвонить», «звонить», «дозвониться» are one action."""
    if russian:
        lemma = lemma.removesuffix("ся")
        for prefix in _RU_PREFIXES:
            if lemma.startswith(prefix) and len(lemma) - len(prefix) >= 5:
                return lemma[len(prefix):]
    return lemma


def count_actions(span: Doc | Span, rule: Rule) -> dict[str, Any]:
    """Distinct actions named in a span: action words of the rule plus, in Russian,
    first-person future verbs («позвоню», «напишу»). Keys are action keys."""
    p = rule.params
    actions = {a.lower() for a in p.get("action_lemmas") or ()}
    ignore = {a.lower() for a in p.get("ignore_lemmas") or ()}
    russian = rule.lang == "ru"
    questions = _question_sentences(span.doc if isinstance(span, Span) else span)
    seen: dict[str, Any] = {}
    for tok in span:
        lemma = tok.lemma_.lower()
        if lemma in ignore or tok.i in questions:
            continue
        is_action = lemma in actions
        if russian and tok.pos_ == "VERB" and "1" in tok.morph.get("Person") and "Fut" in tok.morph.get("Tense"):
            is_action = True
        if is_action:
            seen.setdefault(_action_key(lemma, russian), tok)
    return seen


def _count(rule: Rule, doc: Doc, compiled: _Compiled) -> list[dict[str, Any]]:
    """Distinct actions (persistence in the silent-client case), as the flag's value."""
    seen = count_actions(doc, rule)
    if not seen:
        return []
    first = min(t.i for t in seen.values())
    last = max(t.i for t in seen.values())
    span = doc[first : last + 1] if last - first < 40 else doc[first : first + 1]
    return [_hit(rule, span, rule.score, len(seen))]


def _polarity(rule: Rule, doc: Doc, compiled: _Compiled) -> list[dict[str, Any]]:
    p = rule.params
    lower = _lower(doc.text).replace("ё", "е")

    def find(words: list[str]) -> list[re.Match[str]]:
        out = []
        for w in words:
            out.extend(re.finditer(r"(?<!\w)" + re.escape(w.lower().replace("ё", "е")), lower))
        return out

    pos, neg = find(p.get("positive") or []), find(p.get("negative") or [])
    if not pos and not neg:
        return []
    value = "positive" if len(pos) > len(neg) else "negative" if len(neg) > len(pos) else None
    if value is None:
        # a tie: the last word decides ("да, утомляет, но без них никак")
        value = "positive" if max(m.start() for m in pos) > max(m.start() for m in neg) else "negative"
    margin = abs(len(pos) - len(neg)) / (len(pos) + len(neg))
    strongest = (pos if value == "positive" else neg)[0]
    span = doc.char_span(strongest.start(), strongest.end(), alignment_mode="expand")
    if span is None:
        return []
    sent = span.sent
    return [_hit(rule, sent if len(sent) <= 40 else span, min(1.0, rule.score + 0.2 * margin), value)]


_DETECTORS = {
    "sequence": _sequence,
    "narrative": _narrative,
    "metric": _metric,
    "density": _density,
    "count": _count,
    "polarity": _polarity,
}
