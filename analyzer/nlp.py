"""Language pipelines built from blank spaCy models plus rule-based parts.

Trained spaCy pipelines cannot be installed offline, so the pipelines are
*built*, not loaded:

* Russian: ``spacy.blank("ru")`` + ``ru_morph``, a component that puts pymorphy3's
  best analysis on every token: lemma, part of speech and morphology (person,
  number, tense, aspect, mood, gender, case). spaCy's own pymorphy3 lemmatizer
  needs a tagger's part of speech and, in a blank pipeline, returns an ambiguous
  form unchanged, so the rules would miss it (see FAILURE-MODES.md); our
  component picks pymorphy3's most probable parse instead, and caches it per
  word form because interviews repeat their words.
* English: ``spacy.blank("en")`` + the lookup lemmatizer (spacy-lookups-data) +
  ``en_morph``, a light heuristic for pronoun person/number, past tense and
  modal verbs, which the signal rules need.

Build each once with :func:`get_nlp` (cached); never call ``nlp.pipe`` with
``n_process > 1`` (spaCy #8651).
"""

from __future__ import annotations

import re
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

_UD_POS = {
    "NOUN": "NOUN",
    "ADJF": "ADJ",
    "ADJS": "ADJ",
    "COMP": "ADJ",
    "VERB": "VERB",
    "INFN": "VERB",
    "PRTF": "VERB",
    "PRTS": "VERB",
    "GRND": "VERB",
    "NUMR": "NUM",
    "ADVB": "ADV",
    "NPRO": "PRON",
    "PRED": "ADV",
    "PREP": "ADP",
    "CONJ": "CCONJ",
    "PRCL": "PART",
    "INTJ": "INTJ",
}
_FEATS = (
    ("person", "Person", {"1per": "1", "2per": "2", "3per": "3"}),
    ("number", "Number", {"sing": "Sing", "plur": "Plur"}),
    ("tense", "Tense", {"past": "Past", "pres": "Pres", "futr": "Fut"}),
    ("aspect", "Aspect", {"perf": "Perf", "impf": "Imp"}),
    ("mood", "Mood", {"indc": "Ind", "impr": "Imp"}),
    ("gender", "Gender", {"masc": "Masc", "femn": "Fem", "neut": "Neut"}),
    ("case", "Case", {"nomn": "Nom", "gent": "Gen", "datv": "Dat", "accs": "Acc", "ablt": "Ins", "loct": "Loc"}),
)


@lru_cache(maxsize=1)
def _morph_analyzer():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def ru_analysis(word: str) -> tuple[str, str, str]:
    """(lemma, UD part of speech, UD morph string) of a Russian word form."""
    lower = word.lower()
    if not re.search(r"[а-яё]", lower):
        if re.fullmatch(r"\d[\d.,]*%?", lower):
            return lower, "NUM", ""
        if re.fullmatch(r"\W+", lower):
            return lower, "PUNCT", ""
        return lower, "X", ""
    parse = _morph_analyzer().parse(lower)[0]
    tag = parse.tag
    pos = _UD_POS.get(str(tag.POS), "X")
    feats = []
    for attr, name, mapping in _FEATS:
        value = mapping.get(str(getattr(tag, attr)))
        if value:
            feats.append(f"{name}={value}")
    if tag.POS == "VERB":
        feats.append("VerbForm=Fin")
    elif tag.POS == "INFN":
        feats.append("VerbForm=Inf")
    elif tag.POS in ("PRTF", "PRTS"):
        feats.append("VerbForm=Part")
    elif tag.POS == "GRND":
        feats.append("VerbForm=Conv")
    if tag.POS in ("PRTS",) or "pssv" in tag:
        feats.append("Voice=Pass")
    lemma = parse.normal_form.replace("ё", "е")
    return lemma, pos, "|".join(sorted(feats))


@Language.component("ru_morph")
def ru_morph(doc: Doc) -> Doc:
    for token in doc:
        lemma, pos, morph = ru_analysis(token.text)
        token.lemma_ = lemma
        token.pos_ = pos
        if morph:
            token.set_morph(morph)
    return doc


_EN_PRONOUNS = {
    "i": "Person=1|Number=Sing",
    "me": "Person=1|Number=Sing",
    "my": "Person=1|Number=Sing|Poss=Yes",
    "myself": "Person=1|Number=Sing",
    "we": "Person=1|Number=Plur",
    "us": "Person=1|Number=Plur",
    "our": "Person=1|Number=Plur|Poss=Yes",
    "you": "Person=2",
    "your": "Person=2|Poss=Yes",
    "he": "Person=3|Number=Sing",
    "she": "Person=3|Number=Sing",
    "it": "Person=3|Number=Sing",
    "they": "Person=3|Number=Plur",
    "them": "Person=3|Number=Plur",
    "their": "Person=3|Number=Plur|Poss=Yes",
}
_EN_MODALS = {"would", "could", "should", "might", "may", "will", "can", "must", "shall", "'d", "'ll"}
_EN_AUX = {"be", "have", "do"}
# Common irregular past-tense forms; regular ones end in -ed.
_EN_IRREGULAR_PAST = set(
    """was were had did made took went got gave told said saw came found thought knew brought
    bought sent spent built felt kept left led lost met paid ran sold stood understood wrote won
    began chose drove fell forgot grew heard held hit hurt let meant put quit read rose set shut
    sat spoke split stuck struck taught threw woke wore became caught dealt fought flew hung laid
    lent lit overcame rang sang sank slept sought swore swam undertook withdrew broke bent bet
    bit blew bound bred burnt drew drank fed fled forbade forgave froze hid knelt leapt learnt
    mistook rode shook shot shone slid spun spread sprang stole stung strove swept swung tore
    upset wept wound ate dug strode tore wove sped spat bore beat
    rebuilt redid rewrote reran rethought retook remade resold repaid retold regained rebrought
    overcame overtook oversaw overheard outgrew outsold outran misread misunderstood undertook
    underwent withheld upheld foresaw""".split()
)
_EN_NOT_PAST = {"need", "speed", "feed", "seed", "bed", "red", "bred", "shed", "hundred", "indeed", "exceed", "proceed", "succeed", "embed", "weed"}


def _en_is_past(lower: str) -> bool:
    if lower in _EN_IRREGULAR_PAST:
        return True
    return len(lower) > 4 and lower.endswith("ed") and lower not in _EN_NOT_PAST


@Language.component("en_morph")
def en_morph(doc: Doc) -> Doc:
    for i, token in enumerate(doc):
        lower = token.lower_
        if lower in _EN_PRONOUNS:
            token.pos_ = "PRON"
            token.set_morph(_EN_PRONOUNS[lower])
        elif lower in _EN_MODALS:
            token.pos_ = "AUX"
            token.set_morph("VerbType=Mod")
        elif token.like_num:
            token.pos_ = "NUM"
        elif token.is_punct:
            token.pos_ = "PUNCT"
        elif _en_is_past(lower):
            # "-ed" after a determiner is an adjective ("the required steps"); keep it simple.
            prev = doc[i - 1].lower_ if i else ""
            if prev not in ("the", "a", "an", "very", "more", "most"):
                token.pos_ = "AUX" if token.lemma_ in _EN_AUX else "VERB"
                token.set_morph("Tense=Past|VerbForm=Fin")
    return doc


@lru_cache(maxsize=4)
def get_nlp(language: str) -> Language:
    """The language pipeline for ``ru`` or ``en``, built once per process.

    Raises:
        ValueError: for a language other than ``ru`` or ``en``.
    """
    if language == "ru":
        nlp = spacy.blank("ru")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("ru_morph")
    elif language == "en":
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        nlp.add_pipe("en_morph")
    else:
        raise ValueError(f"no pipeline for language {language!r}; expected 'ru' or 'en'")
    return nlp


def lemmas(text: str, language: str) -> list[str]:
    """Lower-cased lemmas of the word tokens of ``text`` (punctuation dropped)."""
    doc = get_nlp(language).make_doc(text)
    if language == "ru":
        return [ru_analysis(t.text)[0] for t in doc if not t.is_punct and not t.is_space]
    nlp = get_nlp("en")
    lemmatizer = nlp.get_pipe("lemmatizer")
    doc = lemmatizer(doc)
    return [t.lemma_.lower() for t in doc if not t.is_punct and not t.is_space]


_CYRILLIC = re.compile(r"[а-яё]", re.I)
_LATIN = re.compile(r"[a-z]", re.I)


def detect_language(text: str) -> str:
    """``ru`` when Cyrillic letters dominate, else ``en``."""
    cyr = len(_CYRILLIC.findall(text))
    lat = len(_LATIN.findall(text))
    return "ru" if cyr >= lat else "en"
