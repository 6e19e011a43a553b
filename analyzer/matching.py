"""Match what an interviewer says to the questions of the rubric's bank.

:class:`QuestionMatcher` is a scikit-learn estimator: ``fit`` takes question texts
and their ids, ``similarities`` returns cosine similarities of new texts to every
question, ``predict`` the best id. Texts are compared as lemmas (pymorphy3 for
Russian, spaCy lookups for English), so inflection and word order matter little,
with word uni/bigrams plus character n-grams of the lemmas, which absorb ASR
misspellings («фоллоуап», «фолоу ап») and compound spellings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from sklearn.base import BaseEstimator
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.utils.validation import check_is_fitted

from .nlp import detect_language, lemmas
from .rubric import Question, Rubric

# Words that every question shares carry no evidence of *which* question it is.
_STOP = {
    "ru": set(
        "и а но в во на с со к ко по за из у о об от до для же ли бы то ну вот это этот эта эти "
        "ты вы тебя вас тебе вам твой ваш свой мы я он она они быть что как какой почему когда где кто "
        "который ли бы нибудь нибыть либо таки "
        # discourse fillers that open a question and say nothing about it
        "хорошо хороший давать давай давайте про ладно окей ок так ну теперь тогда сказать скажи скажите "
        "пожалуйста слушать слушай смотреть смотри отлично понятно ага угу ясно спасибо благодарить".split()
    ),
    "en": set(
        "a an the and or but to of in on at for with from by is are was were be been do does did "
        "you your i we me my it this that so just well okay ok how what why when where who which would "
        "could can will "
        # discourse fillers that open a question and say nothing about it
        "let let's now then great right alright cool gotcha love thanks thank please about yeah yes sure "
        "awesome perfect nice got it".split()
    ),
}


@lru_cache(maxsize=1)
def _spellings() -> list[tuple[re.Pattern[str], str]]:
    path = Path(str(resources.files("analyzer") / "lang" / "spellings.yaml"))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for canonical, variants in data["spellings"].items():
        body = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
        out.append((re.compile(r"(?<!\w)(?:" + body + r")(?!\w)"), f" {canonical} "))
    return out


@lru_cache(maxsize=2)
def _synonyms(language: str) -> tuple[dict[str, str], tuple[tuple[tuple[str, ...], str], ...]]:
    """Lemma → its group's first lemma, and multi-word variants (as lemma sequences)."""
    path = Path(str(resources.files("analyzer") / "lang" / "synonyms.yaml"))
    groups = yaml.safe_load(path.read_text(encoding="utf-8")).get(language) or []
    single: dict[str, str] = {}
    phrases: list[tuple[tuple[str, ...], str]] = []
    for group in groups:
        canonical = " ".join(lemmas(str(group[0]), language))
        for variant in group[1:]:
            forms = tuple(lemmas(str(variant), language))
            if len(forms) == 1:
                single.setdefault(forms[0], canonical)
            elif forms:
                phrases.append((forms, canonical))
    return single, tuple(sorted(phrases, key=lambda p: -len(p[0])))


def _merge_synonyms(words: list[str], language: str) -> list[str]:
    single, phrases = _synonyms(language)
    if phrases:
        out: list[str] = []
        i = 0
        while i < len(words):
            for forms, canonical in phrases:
                if tuple(words[i : i + len(forms)]) == forms:
                    out.append(canonical)
                    i += len(forms)
                    break
            else:
                out.append(words[i])
                i += 1
        words = out
    return [single.get(w, w) for w in words]


def normalize(text: str, language: str | None = None) -> str:
    """Lemmatised, lower-cased text without stop words, for vectorizing."""
    text = text.lower()
    for pattern, canonical in _spellings():
        text = pattern.sub(canonical, text)
    language = language or detect_language(text)
    # "бизнес-идею" and "бизнес идея" should meet: compare the parts of hyphenated words.
    text = re.sub(r"(?<=\w)-(?=\w)", " ", text)
    words = _merge_synonyms([w for w in lemmas(text, language) if re.search(r"\w", w)], language)
    kept = [w for w in words if w not in _STOP[language]]
    return " ".join(kept or words)


def content_words(normalized: str, language: str) -> list[str]:
    """The words of a :func:`normalize`-d text that say what it is about."""
    return [w for w in normalized.split() if w not in _STOP[language]]


class QuestionMatcher(BaseEstimator):
    """Nearest bank question by TF-IDF over lemmas, re-weighted by topic.

    Two views of the bank are fitted: cosine similarity to every bank text
    (word uni/bigrams plus character n-grams of the lemmas), and a logistic
    regression over the same features that predicts the *group* of a text (the
    competency: the part of a question id before its first dot). The
    similarity to a question is scaled by the probability of its group, so a
    short bank text that shares one ambiguous word («роль», "role") loses to a
    question of the topic the rest of the turn is about («…в продажах»).

    Args:
        word_ngram_max: longest word n-gram.
        char_ngram_range: character n-gram lengths (on word boundaries).
        char_weight: weight of the character similarity, 0..1; the word
            similarity gets the rest.
        topic_weight: how much the topic probability scales a similarity, 0..1
            (0 = plain cosine).
        topic_C: inverse regularisation of the topic model.
    """

    def __init__(self, word_ngram_max: int = 2, char_ngram_range: tuple[int, int] = (3, 5), char_weight: float = 0.5,
                 topic_weight: float = 0.5, topic_C: float = 10.0):
        self.word_ngram_max = word_ngram_max
        self.char_ngram_range = char_ngram_range
        self.char_weight = char_weight
        self.topic_weight = topic_weight
        self.topic_C = topic_C

    def fit(self, X: list[str], y: list[str]) -> "QuestionMatcher":
        """Fit on question texts ``X`` with their question ids ``y`` (``group.name…``)."""
        if len(X) != len(y) or not len(X):
            raise ValueError("X and y must be non-empty and of equal length")
        if not 0 <= self.char_weight <= 1 or not 0 <= self.topic_weight <= 1:
            raise ValueError("char_weight and topic_weight must be in 0..1")
        docs = [normalize(x) for x in X]
        self.docs_ = docs  # the normalized bank, for models fitted beside this one (TopicClassifier)
        self.word_vectorizer_ = TfidfVectorizer(
            analyzer="word", ngram_range=(1, self.word_ngram_max), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"
        ).fit(docs)
        self.char_vectorizer_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(self.char_ngram_range), sublinear_tf=True
        ).fit(docs)
        self.word_vectors_ = self.word_vectorizer_.transform(docs)
        self.char_vectors_ = self.char_vectorizer_.transform(docs)
        self.labels_ = np.asarray(y)
        self.texts_ = list(X)
        self.classes_ = np.unique(self.labels_)
        groups = np.asarray([str(label).split(".")[0] for label in y])
        self.groups_ = groups
        if len(set(groups)) > 1:
            features = hstack([self.word_vectors_, self.char_vectors_]).tocsr()
            self.topic_model_ = LogisticRegression(C=self.topic_C, max_iter=2000).fit(features, groups)
            index = {g: i for i, g in enumerate(self.topic_model_.classes_)}
            self.group_index_ = np.asarray([index[g] for g in groups])
        else:
            self.topic_model_ = None
        return self

    def similarities_normalized(self, docs: list[str], partial: list[bool] | None = None, *,
                                with_context: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Similarity (0..1) of normalized texts to each bank text.

        A text of three or more words (and any ``partial`` one, a piece of a
        longer turn) must share at least two words with a bank text: one word
        in common («development» in "a dozen developments across Yorkshire") is
        a coincidence, not the same question.

        With ``with_context`` it also returns the similarities a text has when
        its topic is already known from the conversation (a probe inside a
        thread: "what's your role in that?" after "the biggest problem at work"):
        plain cosine, without the topic re-weighting and, for texts of up to
        four words, without the two-shared-words rule.
        """
        check_is_fitted(self, "word_vectors_")
        words = self.word_vectorizer_.transform(docs)
        chars = self.char_vectorizer_.transform(docs)
        sims = (1 - self.char_weight) * (words @ self.word_vectors_.T).toarray()
        sims += self.char_weight * (chars @ self.char_vectors_.T).toarray()
        shared = ((words > 0).astype(np.int32) @ (self.word_vectors_ > 0).astype(np.int32).T).toarray()
        # words the bank knows: a name («Northlane») neither helps nor hurts a match
        vocabulary = self.word_vectorizer_.vocabulary_
        lengths = np.asarray([sum(1 for w in d.split() if w in vocabulary) for d in docs])
        long_unit = lengths >= 3
        if partial is not None:
            # A piece of a longer turn needs two shared words too, unless it is itself only one
            # or two words long ("Why are you leaving?" → "leave"): then its one word is all it says.
            long_unit |= np.asarray(partial, dtype=bool) & (lengths >= 3)
        context = sims.copy() if with_context else None
        sims[long_unit[:, None] & (shared < 2)] = 0.0
        if self.topic_model_ is not None and self.topic_weight > 0:
            proba = self.topic_model_.predict_proba(hstack([words, chars]).tocsr())
            sims *= (1 - self.topic_weight) + self.topic_weight * proba[:, self.group_index_]
        if context is None:
            return sims
        context[(lengths > 4)[:, None] & (shared < 2)] = 0.0
        return sims, context

    def similarities(self, X: list[str]) -> np.ndarray:
        """Similarity (0..1) of each raw text to each fitted bank text."""
        return self.similarities_normalized([normalize(x) for x in X])

    def best(self, X: list[str]) -> list[tuple[str, str, float]]:
        """(question id, bank text, similarity) of the best match of each text."""
        sims = self.similarities(X)
        out = []
        for row in sims:
            j = int(np.argmax(row))
            out.append((str(self.labels_[j]), self.texts_[j], float(row[j])))
        return out

    def predict(self, X: list[str]) -> np.ndarray:
        return np.asarray([qid for qid, _, _ in self.best(X)])


@dataclass(frozen=True)
class BankText:
    question_id: str
    text: str


def bank_texts(rubric: Rubric) -> list[BankText]:
    """Every wording of every question (both languages, variants included)."""
    return [BankText(q.id, t) for q in rubric.questions for t in q.texts()]


_MATCHERS: dict[str, QuestionMatcher] = {}


def get_matcher(rubric: Rubric) -> QuestionMatcher:
    """A matcher fitted on the rubric's bank, cached per rubric file content."""
    key = f"{rubric.path}:{rubric.sha256}"
    if key not in _MATCHERS:
        texts = bank_texts(rubric)
        _MATCHERS[key] = QuestionMatcher().fit([t.text for t in texts], [t.question_id for t in texts])
    return _MATCHERS[key]


#: Labelled interviewer turns the topic classifier learns from besides the bank
#: (``scripts/export_question_turns.py`` writes it from ``sample_data/dev``).
DEFAULT_TURNS = Path(__file__).resolve().parent.parent / "models" / "question_turns.yaml"
OFFSCRIPT = "offscript"
PROBE = "followup"


class TopicClassifier(BaseEstimator):
    """Which competency an interviewer turn asks about, or none (``offscript``).

    Cosine similarity to the bank's wordings is diluted by everything else a
    turn says: "So, totally normal question, but what's making you want to leave
    Bright Harbor?" shares one word with "Why did you leave?", and a case set up
    over six sentences shares a few with the guide's two-line version. A linear
    model over the same features weighs words by how much they tell topics
    apart, so "leave" decides and "Bright Harbor" does not. It learns from the
    bank's wordings and from labelled interviewer turns of other writers: bank
    questions under their competency, small talk and logistics as ``offscript``,
    and follow-ups as a class of their own (``followup``): a probe ("What made
    that one so hard?") borrows its topic from the conversation, so its words
    must not vote for a competency.

    Args:
        alpha: regularisation of the linear model (SGD with log loss: fast to fit
            when the pipelines are built, and gives probabilities).
        epochs: passes over the data.
        max_char_features: character n-grams kept (the most frequent).
    """

    def __init__(self, alpha: float = 1e-5, epochs: int = 50, max_char_features: int = 30000):
        self.alpha = alpha
        self.epochs = epochs
        self.max_char_features = max_char_features

    def fit(self, X: list[str], y: list[str]) -> "TopicClassifier":
        """Fit on normalized texts ``X`` (see :func:`normalize`) with their competency or ``offscript``."""
        if len(X) != len(y) or len(set(y)) < 2:
            raise ValueError("X and y must be of equal length with at least two classes")
        self.word_vectorizer_ = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b").fit(X)
        self.char_vectorizer_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, max_features=self.max_char_features).fit(X)
        self.model_ = SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=self.epochs, tol=None,
                                    random_state=0).fit(self._features(X), y)
        self.classes_ = self.model_.classes_
        return self

    def _features(self, docs: list[str]):
        return hstack([self.word_vectorizer_.transform(docs), self.char_vectorizer_.transform(docs)]).tocsr()

    def predict_proba(self, docs: list[str]) -> np.ndarray:
        """Probability of each class (``classes_``) for normalized texts."""
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(self._features(docs))

    def topics(self, docs: list[str]) -> list[dict[str, float]]:
        """Per text, class → probability."""
        if not docs:
            return []
        proba = self.predict_proba(docs)
        names = [str(c) for c in self.classes_]
        return [dict(zip(names, map(float, row))) for row in proba]


@dataclass(frozen=True)
class LabelledTurn:
    language: str
    text: str
    kind: str  # bank | followup | offscript
    competency: str | None  # None: small talk, logistics, off-script


def load_question_turns(path: str | Path | None = None) -> tuple[LabelledTurn, ...]:
    """Labelled interviewer turns (``models/question_turns.yaml``); none without the file."""
    path = Path(path) if path is not None else DEFAULT_TURNS
    if not path.exists():
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(LabelledTurn(str(t["language"]), str(t["text"]), str(t.get("kind") or "bank"), t.get("competency"))
                 for t in data.get("turns") or ())


_CLASSIFIERS: dict[str, TopicClassifier | None] = {}


def fit_topic_classifier(rubric: Rubric, turns: tuple[LabelledTurn, ...] | list[LabelledTurn]) -> TopicClassifier:
    """A topic classifier over the rubric's wordings (as the matcher normalized them) and labelled turns."""
    matcher = get_matcher(rubric)
    X = list(matcher.docs_) + [normalize(t.text, t.language) for t in turns]
    y = [str(g) for g in matcher.groups_] + [_target(t) for t in turns]
    return TopicClassifier().fit(X, y)


def _target(turn: LabelledTurn) -> str:
    """What a labelled turn teaches: its competency, small talk, or a probe."""
    if turn.kind == "followup":
        return PROBE
    return turn.competency or OFFSCRIPT


def get_topic_classifier(rubric: Rubric, turns_path: str | Path | None = None) -> TopicClassifier | None:
    """The topic classifier for a rubric, cached; ``None`` without labelled turns."""
    path = Path(turns_path) if turns_path is not None else DEFAULT_TURNS
    key = f"{rubric.path}:{rubric.sha256}:{path}:{path.stat().st_mtime_ns if path.exists() else None}"
    if key not in _CLASSIFIERS:
        turns = load_question_turns(path)
        # turns of other competencies than the rubric's (another guide) would teach it nothing true
        known = {q.competency for q in rubric.questions}
        turns = tuple(t for t in turns if t.competency is None or t.competency in known)
        _CLASSIFIERS[key] = fit_topic_classifier(rubric, turns) if turns else None
    return _CLASSIFIERS[key]


def question_by_id(rubric: Rubric) -> dict[str, Question]:
    return {q.id: q for q in rubric.questions}
