"""Threshold tuning from reviewer decisions, used by the notebooks and the ``calibrate`` command.

A reviewer confirms or rejects each flag the analyzer showed, or adds a signal it
missed. This module turns those decisions into per-signal precision and recall
against the flag's ``score``, chooses the lowest threshold that reaches a target
precision (or the best F1), measures agreement (analyzer vs reviewer, reviewer vs
reviewer, per answer) and competency levels against reviewers' overall ratings,
and writes the result as a new version of ``models/thresholds.yaml``.

Decisions table (one row per judgement; :func:`load_decisions` returns it):

========== =================================================================
interview  report/interview id (``heldout/en_zoom``; any string or number)
entry      index of the question entry (or of the answer in an answers file)
signal     signal id; ``rule_id``, ``start_char``, ``end_char`` complete the
           flag's identity (empty/-1 for an ``added`` signal)
score      the flag's score (NaN for ``added``: the analyzer never offered it)
decision   ``confirm`` | ``reject`` | ``added``
reviewer   who decided; ``note`` and ``time`` are kept as given
split      ``dev`` | ``heldout`` | ``unknown``: which labelled material the
           answer comes from (rules were developed on ``dev`` only)
optional   ``language``, ``competency``, ``question_id``, ``answer_id``,
           ``value`` (persistence count / attitude polarity), ``text``
========== =================================================================

``verdict`` (1 for confirm/added, 0 for reject) is added on loading. Weights: a
flag judged by several reviewers counts once, split by their votes, so two
reviewers who disagree give it half a confirmation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import logging
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from .agreement import (  # noqa: F401 - re-exported: notebooks call them as calibrate.*
    FLAG_KEY,
    UNIT_KEY,
    analyzer_agreement,
    answer_verdicts,
    cohen_kappa,
    disagreements,
    fleiss_kappa,
    krippendorff_alpha,
    rejection_rates,
    reviewer_agreement,
)
from .errors import InputError
from .rubric import ALL_SIGNALS, Rubric
from .thresholds import LevelThresholds, Thresholds, write_thresholds

log = logging.getLogger("analyzer")

DECISIONS = ("confirm", "reject", "added")
REQUIRED_COLUMNS = ("interview", "entry", "signal", "score", "decision", "reviewer")
OPTIONAL_COLUMNS = {"rule_id": "", "start_char": -1, "end_char": -1, "split": "unknown", "language": "",
                    "competency": "", "question_id": "", "answer_id": "", "value": "", "text": "", "note": "",
                    "time": ""}
#: Column names a store or an export may use for ours.
COLUMN_ALIASES = {"interview_id": "interview", "report": "interview", "report_id": "interview",
                  "entry_index": "entry", "index": "entry", "verdict_label": "decision", "decided_at": "time",
                  "created_at": "time", "evidence": "text"}
DECISION_FILES = ("decisions.csv", "decisions.jsonl")
RATING_LEVELS = ("none", "some", "strong")
_SIGN = {"positive": 1, "negative": -1}


# --- loading ----------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the table: {exc}", path) from exc


def _from_store(db: str) -> pd.DataFrame:
    """Decisions from :mod:`analyzer.store`, whichever form its ``decisions_frame`` takes."""
    try:
        store = importlib.import_module("analyzer.store")
    except ImportError as exc:
        raise InputError("this installation has no decision store; pass a decisions CSV/JSONL folder", db) from exc
    if hasattr(store, "Store") and hasattr(store.Store, "decisions_frame"):
        with store.Store(db) as s:
            return s.decisions_frame()
    if hasattr(store, "decisions_frame"):
        return store.decisions_frame(db)
    raise InputError("the store has no decisions_frame(); export the decisions to CSV", db)


def _is_database(source: str | Path) -> bool:
    text = str(source)
    return text.startswith("sqlite:") or Path(text).suffix in (".db", ".sqlite", ".sqlite3")


def load_decisions(source: str | Path) -> pd.DataFrame:
    """Load reviewer decisions as one row per judgement.

    Args:
        source: a folder holding ``decisions.csv`` or ``decisions.jsonl``, such a
            file, or a store database (``*.db``, ``*.sqlite``, ``sqlite:///…``)
            whose :mod:`analyzer.store` has ``decisions_frame()``.

    Returns:
        The decisions (columns in the module docstring) with ``verdict`` added.
        ``frame.attrs`` holds ``source``, ``sha256`` (of the file, or of the
        table as CSV for a store) and ``count``.

    Raises:
        InputError: naming the source and the missing file, column or bad value.
    """
    if _is_database(source):
        text = str(source)
        if not Path(text.removeprefix("sqlite:///")).exists():
            raise InputError("no such database", text)
        frame = _from_store(text)
        digest = _sha256(frame.to_csv(index=False).encode("utf-8"))
        path = str(source)
    else:
        path = Path(source)
        if path.is_dir():
            found = [path / name for name in DECISION_FILES if (path / name).exists()]
            if not found:
                raise InputError(f"no {' or '.join(DECISION_FILES)} in this folder", path)
            path = found[0]
        if not path.exists():
            raise InputError("no such decisions file or folder", path)
        frame = _read_table(path)
        digest = _sha256(path.read_bytes())
    frame = normalize_decisions(frame, path)
    frame.attrs.update(source=str(path), sha256=digest, count=len(frame))
    log.info("%d decisions by %d reviewers from %s", len(frame), frame["reviewer"].nunique(), path)
    return frame


def normalize_decisions(frame: pd.DataFrame, source: str | Path = "decisions") -> pd.DataFrame:
    """Check a decisions table, rename known aliases, fill optional columns and add ``verdict``.

    Args:
        frame: decisions as read from a file or the store.
        source: named in errors.

    Returns:
        A new frame with the columns of the module docstring; rows without a
        decision (flags not reviewed yet) are left out.

    Raises:
        InputError: a required column is missing or a value is invalid.
    """
    frame = frame.rename(columns={k: v for k, v in COLUMN_ALIASES.items() if k in frame and v not in frame})
    missing = [c for c in REQUIRED_COLUMNS if c not in frame]
    if missing:
        raise InputError(f"decisions lack column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}", source)
    # Flags nobody has judged yet (the store lists them with decision None) say nothing.
    pending = frame["decision"].isna() | (frame["decision"].astype(str).str.strip() == "")
    frame = frame[~pending].copy()
    for column, default in OPTIONAL_COLUMNS.items():
        if column not in frame:
            frame[column] = default
    frame["decision"] = frame["decision"].astype(str).str.strip().str.lower()
    bad = sorted(set(frame["decision"]) - set(DECISIONS))
    if bad:
        raise InputError(f"unknown decision(s) {', '.join(bad)}; valid: {', '.join(DECISIONS)}", source)
    unknown = sorted(set(frame["signal"]) - set(ALL_SIGNALS))
    if unknown:
        raise InputError(f"unknown signal(s) {', '.join(map(str, unknown))}", source)
    for column in ("interview", "reviewer", "split", "rule_id", "competency", "value", "question_id", "note"):
        text = frame[column].astype(object)  # None/NaN (store, JSONL null) become ""
        frame[column] = text.where(text.notna(), "").astype(str)
    frame["split"] = frame["split"].replace("", "unknown")
    try:
        frame["entry"] = pd.to_numeric(frame["entry"]).astype(int)
        frame["score"] = pd.to_numeric(frame["score"].replace("", np.nan)).astype(float)
        for column in ("start_char", "end_char"):
            frame[column] = pd.to_numeric(frame[column].replace("", -1)).fillna(-1).astype(int)
    except (ValueError, TypeError) as exc:
        raise InputError(f"entry, score, start_char and end_char must be numbers: {exc}", source) from exc
    judged = frame["decision"] != "added"
    if frame.loc[judged, "score"].isna().any():
        raise InputError("a confirmed or rejected flag has no score", source)
    frame["verdict"] = (frame["decision"] != "reject").astype(int)
    return frame


def load_ratings(source: str | Path) -> pd.DataFrame:
    """Load reviewers' overall competency ratings.

    Args:
        source: a folder with ``ratings.csv`` (or such a file), or a store whose
            :mod:`analyzer.store` has ``ratings_frame()``. Columns: ``interview``,
            ``competency``, ``reviewer``, ``rating`` (none/some/strong), and
            optionally ``answer_words`` and ``split``.

    Returns:
        The ratings; ``frame.attrs`` holds ``source`` and ``sha256``.

    Raises:
        InputError: the file is missing or a rating is not none/some/strong.
    """
    if _is_database(source):
        store = importlib.import_module("analyzer.store")
        if not hasattr(store, "ratings_frame"):
            raise InputError("the store keeps no competency ratings; pass a ratings.csv", source)
        frame, path, digest = store.ratings_frame(str(source)), str(source), ""
    else:
        path = Path(source)
        path = path / "ratings.csv" if path.is_dir() else path
        if not path.exists():
            raise InputError("no ratings file here", path)
        frame, digest = _read_table(path), _sha256(path.read_bytes())
    missing = [c for c in ("interview", "competency", "reviewer", "rating") if c not in frame]
    if missing:
        raise InputError(f"ratings lack column(s) {', '.join(missing)}", path)
    bad = sorted(set(frame["rating"]) - set(RATING_LEVELS))
    if bad:
        raise InputError(f"unknown rating(s) {', '.join(bad)}; valid: {', '.join(RATING_LEVELS)}", path)
    frame = frame.assign(interview=frame["interview"].astype(str))
    if "answer_words" in frame:
        frame["answer_words"] = pd.to_numeric(frame["answer_words"].replace("", np.nan))
    frame.attrs.update(source=str(path), sha256=digest)
    return frame


def split_decisions(frame: pd.DataFrame, how: str = "auto", *, test_size: float = 0.5,
                    seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Split decisions into the part thresholds are tuned on and the part they are checked on.

    Args:
        frame: decisions from :func:`load_decisions`.
        how: ``material``: tune on answers from held-out labelled material
            (``split == "heldout"``), check on the rest; ``stratified``: a
            random split by answer, stratified by signal and verdict (it mixes in
            the material the rules were developed on, so its figures are
            optimistic); ``auto``: ``material`` when there are held-out decisions.
        test_size: share of answers in the check part of a stratified split.
        seed: seed of the stratified split.

    Returns:
        (tuning part, checking part, a description of the split).

    Raises:
        InputError: ``material`` was asked for and no decision is on held-out material.
    """
    if how not in ("auto", "material", "stratified"):
        raise ValueError(f"how must be auto, material or stratified, not {how!r}")
    heldout = frame["split"] == "heldout"
    if how == "material" or (how == "auto" and heldout.any()):
        if not heldout.any():
            raise InputError("no decision is on held-out material (split column); use a stratified split",
                             frame.attrs.get("source"))
        return frame[heldout], frame[~heldout], "heldout material: tuned on sample_data/heldout answers, checked on the rest"
    from sklearn.model_selection import StratifiedGroupKFold

    groups = frame["interview"] + "#" + frame["entry"].astype(str)
    strata = frame["signal"] + ":" + frame["verdict"].astype(str)
    n_splits = max(2, round(1 / test_size))
    if groups.nunique() < n_splits:
        raise InputError(f"too few answers ({groups.nunique()}) to split the decisions", frame.attrs.get("source"))
    counts = strata.map(strata.value_counts())
    strata = strata.where(counts >= n_splits, "rare")  # scikit-learn warns on strata smaller than the folds
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        tune_idx, check_idx = next(folds.split(frame, strata, groups))
    return (frame.iloc[tune_idx], frame.iloc[check_idx],
            f"stratified by signal and verdict, grouped by answer, {1 - test_size:.0%} tuning, seed {seed} "
            "(may include material the rules were developed on)")


# --- precision and recall ---------------------------------------------------------------


def flag_votes(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per judged flag: its score, how many judged it and the share who confirmed it.

    Args:
        frame: decisions.

    Returns:
        Columns of ``FLAG_KEY`` plus ``score``, ``judgements``, ``confirm_share``.
    """
    judged = frame[frame["decision"] != "added"]
    return (judged.groupby(list(FLAG_KEY), sort=False)
            .agg(score=("score", "first"), judgements=("verdict", "size"), confirm_share=("verdict", "mean"))
            .reset_index())


def missed_weight(frame: pd.DataFrame) -> pd.Series:
    """Per signal, the weight of positives the analyzer never offered (``added`` decisions).

    An added signal counts once per answer, weighted by the share of that answer's
    reviewers who added it.
    """
    added = frame[frame["decision"] == "added"]
    if added.empty:
        return pd.Series(dtype=float)
    reviewers = frame.groupby(["interview", "entry"])["reviewer"].nunique().rename("reviewers")
    adders = added.groupby(list(UNIT_KEY))["reviewer"].nunique().rename("adders").reset_index()
    adders = adders.join(reviewers, on=["interview", "entry"])
    return (adders["adders"] / adders["reviewers"]).groupby(adders["signal"]).sum()


def precision_recall_table(frame: pd.DataFrame, signal: str) -> pd.DataFrame:
    """Precision, recall and F1 of one signal at each candidate threshold.

    Uses :func:`sklearn.metrics.precision_recall_curve` over the judged flags
    (weighted by the reviewers' votes); recall also counts the added signals,
    which no threshold can reach.

    Args:
        frame: decisions.
        signal: the signal id.

    Returns:
        Columns ``threshold`` (ascending; a flag passes when ``score >= threshold``),
        ``precision``, ``recall``, ``f1``, ``flags`` (flags kept), ``confirmed``
        (weight of confirmed flags kept). Empty when the signal has no judged flag.
    """
    from sklearn.metrics import precision_recall_curve

    votes = flag_votes(frame[frame["signal"] == signal])
    columns = ["threshold", "precision", "recall", "f1", "flags", "confirmed"]
    if votes.empty:
        return pd.DataFrame(columns=columns, dtype=float)
    scores = votes["score"].to_numpy()
    share = votes["confirm_share"].to_numpy()
    positives = share.sum() + float(missed_weight(frame).get(signal, 0.0))
    thresholds = np.unique(scores)
    if share.sum() > 0:
        y = np.r_[np.ones(len(votes)), np.zeros(len(votes))]
        w = np.r_[share, 1 - share]
        keep = w > 0
        precision, recall, curve_thresholds = precision_recall_curve(y[keep], np.r_[scores, scores][keep],
                                                                     sample_weight=w[keep])
        precision, recall = precision[:-1], recall[:-1] * share.sum() / positives
        assert np.allclose(curve_thresholds, thresholds)
    else:
        precision, recall = np.zeros(len(thresholds)), np.zeros(len(thresholds))
    kept = np.array([(scores >= t).sum() for t in thresholds])
    confirmed = np.array([share[scores >= t].sum() for t in thresholds])
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return pd.DataFrame({"threshold": thresholds, "precision": precision, "recall": recall, "f1": f1,
                         "flags": kept, "confirmed": confirmed})


def precision_recall_at(frame: pd.DataFrame, thresholds: Mapping[str, float] | Thresholds) -> pd.DataFrame:
    """Per-signal precision, recall and F1 of the flags at given thresholds.

    Args:
        frame: decisions.
        thresholds: signal id → minimum score, or a :class:`Thresholds`.

    Returns:
        One row per signal with decisions: ``signal``, ``threshold``, ``precision``
        (NaN when no flag passes), ``recall`` (NaN without positives), ``f1``,
        ``flags`` (passing), ``positives`` (confirmed weight, added included).
    """
    limit = thresholds.signal if isinstance(thresholds, Thresholds) else (lambda s: float(thresholds.get(s, 0.5)))
    votes, missed = flag_votes(frame), missed_weight(frame)
    rows = []
    for signal in [s for s in ALL_SIGNALS if s in set(frame["signal"])]:
        mine = votes[votes["signal"] == signal]
        passing = mine[mine["score"] >= limit(signal)]
        tp, fp = passing["confirm_share"].sum(), (1 - passing["confirm_share"]).sum()
        positives = mine["confirm_share"].sum() + float(missed.get(signal, 0.0))
        p = tp / (tp + fp) if len(passing) else np.nan
        r = tp / positives if positives else np.nan
        f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
        rows.append({"signal": signal, "threshold": limit(signal), "precision": p, "recall": r, "f1": f1,
                     "flags": len(passing), "positives": positives})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ThresholdChoice:
    """The threshold chosen for one signal and what it reaches on the tuning decisions.

    ``threshold`` and ``previous`` are minimum scores (0..1); ``precision``,
    ``recall`` and ``f1`` are shares at ``threshold``; ``flags`` is the number of
    judged flags of the signal and ``positives`` the confirmed weight (added
    signals included). ``reached`` says whether the target precision was met.
    """

    signal: str
    threshold: float
    previous: float
    precision: float
    recall: float
    f1: float
    flags: int
    positives: float
    reached: bool
    reason: str


def choose_threshold(frame: pd.DataFrame, signal: str, *, target_precision: float | None = 0.9,
                     previous: float = 0.5, min_positives: float = 3.0, min_flags: int = 5,
                     fallback: str = "f1") -> ThresholdChoice:
    """Choose the threshold of one signal.

    With a target precision: the lowest threshold whose precision reaches it
    while keeping at least ``min_flags`` flags (the most recall at that
    precision). When none does, ``fallback`` decides: ``f1`` takes the best F1
    (which may lower the threshold and the precision), ``precision`` the
    highest precision reachable (which may cost most of the recall). On the
    sample decisions ``f1`` agrees better with reviewers per answer and per
    competency level, hence the default. With ``target_precision=None``: the
    best F1. Too little data keeps ``previous``.

    Args:
        frame: decisions (the tuning part).
        signal: the signal id.
        target_precision: the precision to reach, or None for the best F1.
        previous: the threshold in force, kept when data are too few.
        min_positives: fewer confirmed flags than this keep ``previous``.
        min_flags: a threshold must keep at least this many flags.
        fallback: ``precision`` or ``f1``, when the target cannot be reached.

    Returns:
        The choice with its figures.
    """
    if fallback not in ("precision", "f1"):
        raise ValueError(f"fallback must be precision or f1, not {fallback!r}")
    table = precision_recall_table(frame, signal)
    n_flags = int(table["flags"].max()) if len(table) else 0
    positives = float(table["confirmed"].max()) if len(table) else 0.0
    positives += float(missed_weight(frame).get(signal, 0.0))
    if len(table) == 0 or positives < min_positives:
        row = precision_recall_at(frame[frame["signal"] == signal], {signal: previous})
        p, r, f1 = (float(row.iloc[0][k]) for k in ("precision", "recall", "f1")) if len(row) else (np.nan,) * 3
        return ThresholdChoice(signal, previous, previous, p, r, f1, n_flags, positives, False,
                               f"kept: {positives:.1f} confirmed < {min_positives}")
    usable = table[table["flags"] >= min_flags]
    usable = usable if len(usable) else table
    reached = target_precision is not None and bool((usable["precision"] >= target_precision - 1e-9).any())
    if reached:
        best = usable[usable["precision"] >= target_precision - 1e-9].iloc[0]
        reason = f"lowest threshold with precision >= {target_precision}"
    elif target_precision is not None and fallback == "precision":
        best = usable.loc[usable["precision"].idxmax()]  # idxmax: the first, i.e. lowest, threshold
        reason = f"precision {target_precision} not reached; highest precision"
    else:
        best = usable.loc[usable["f1"].idxmax()]
        reason = "best F1" if target_precision is None else f"precision {target_precision} not reached; best F1"
    return ThresholdChoice(signal, round(float(best["threshold"]), 3), previous, float(best["precision"]),
                           float(best["recall"]), float(best["f1"]), n_flags, positives, reached, reason)


def choose_thresholds(frame: pd.DataFrame, thresholds: Thresholds, *, target_precision: float | None = 0.9,
                      min_positives: float = 3.0, fallback: str = "f1") -> pd.DataFrame:
    """:func:`choose_threshold` for every signal with decisions.

    Args:
        frame: decisions (the tuning part).
        thresholds: the thresholds in force (kept for signals with too little data).
        target_precision: the precision to reach, or None for the best F1.
        min_positives: see :func:`choose_threshold`.
        fallback: see :func:`choose_threshold`.

    Returns:
        One row per signal (the fields of :class:`ThresholdChoice`).
    """
    present = set(frame["signal"])
    choices = [choose_threshold(frame, s, target_precision=target_precision, previous=thresholds.signal(s),
                                min_positives=min_positives, fallback=fallback) for s in ALL_SIGNALS if s in present]
    return pd.DataFrame([dataclasses.asdict(c) for c in choices])


def tune_threshold_cv(frame: pd.DataFrame, signal: str, *, scoring: str = "f1", cv: int = 5, seed: int = 0) -> float:
    """The cross-validated best threshold of one signal (scikit-learn's ``TunedThresholdClassifierCV``).

    The analyzer's score is the classifier's probability, so only the
    threshold is fitted; each flag's label is the reviewers' majority (ties
    confirm). A check on :func:`choose_threshold`'s F1 choice, which uses all
    the tuning decisions at once.

    Args:
        frame: decisions.
        signal: the signal id.
        scoring: a scikit-learn scorer name, e.g. ``f1`` or ``balanced_accuracy``.
        cv: number of stratified folds (fewer when a class is smaller).
        seed: shuffling seed of the folds.

    Returns:
        The threshold (a flag passes when ``score >= threshold``); NaN when the
        signal has fewer than two flags of either verdict or all its flags
        have one score.
    """
    from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV

    votes = flag_votes(frame[frame["signal"] == signal])
    y = (votes["confirm_share"] >= 0.5).astype(int).to_numpy()
    smaller = int(min(y.sum(), len(y) - y.sum()))
    x = votes[["score"]].to_numpy()
    if smaller < 2 or len(np.unique(x)) < 2:  # nothing to validate, or one score: no threshold to move
        return float("nan")
    folds = StratifiedKFold(n_splits=min(cv, smaller), shuffle=True, random_state=seed)
    tuner = TunedThresholdClassifierCV(_ScoreAsProbability(), scoring=scoring, cv=folds,
                                       thresholds=np.unique(x), random_state=seed).fit(x, y)
    return float(tuner.best_threshold_)


class _ScoreAsProbability(ClassifierMixin, BaseEstimator):
    """Uses the first feature (the analyzer's score) as the probability of a confirmation."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        s = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1 - s, s])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


# --- competency levels ------------------------------------------------------------------


def competency_scores(frame: pd.DataFrame, rubric: Rubric, thresholds: Thresholds) -> pd.DataFrame:
    """Each interview's competency scores from its flags, as ``report.build_summaries`` computes them.

    Args:
        frame: decisions (each flag counts once, whatever its verdicts).
        rubric: gives each competency's signals and their direction.
        thresholds: only flags with ``score >= thresholds.signal(id)`` count.

    Returns:
        Columns ``interview``, ``competency``, ``score``.
    """
    flags = frame[frame["decision"] != "added"].drop_duplicates(list(FLAG_KEY))
    flags = flags[(flags["competency"] != "") & (flags["score"] >= flags["signal"].map(thresholds.signal))]
    rows = []
    for (interview, competency), part in flags.sort_values(["entry", "start_char"]).groupby(["interview", "competency"]):
        try:
            cared = rubric.competency(competency).signals
        except KeyError:
            continue
        present = set(part["signal"])
        score = 0.0
        for sid, direction in cared.items():
            if sid not in present:
                continue
            sign = _SIGN.get(direction, 0)
            values = part.loc[part["signal"] == sid, "value"]
            if sid == "followup_attitude":
                sign *= 1 if values.iloc[-1] == "positive" else -1
            elif sid == "persistence":
                sign *= 1 if max(int(float(v or 0)) for v in values) >= 3 else 0
            score += sign
        rows.append({"interview": interview, "competency": competency, "score": score})
    return pd.DataFrame(rows, columns=["interview", "competency", "score"])


def score_levels(scores: Iterable[float], levels: LevelThresholds) -> list[str]:
    """The level (none/some/strong) of each competency score under these level thresholds."""
    return ["strong" if s >= levels.strong_min_score else "some" if s >= levels.some_min_score else "none"
            for s in scores]


def level_table(ratings: pd.DataFrame, frame: pd.DataFrame, rubric: Rubric, thresholds: Thresholds) -> pd.DataFrame:
    """Reviewers' ratings beside the analyzer's competency scores and levels.

    Ratings of competencies whose answers are too short to judge
    (``answer_words`` below ``levels.insufficient_max_words``) are left out.

    Args:
        ratings: from :func:`load_ratings`.
        frame: decisions.
        rubric: the rubric the interviews were analysed with.
        thresholds: signal and level thresholds.

    Returns:
        The ratings with ``score`` and ``predicted`` columns.
    """
    scores = competency_scores(frame, rubric, thresholds)
    table = ratings.merge(scores, on=["interview", "competency"], how="left").fillna({"score": 0.0})
    if "answer_words" in table:
        table = table[~(table["answer_words"] < thresholds.levels.insufficient_max_words)]
    return table.assign(predicted=score_levels(table["score"], thresholds.levels))


def level_agreement(table: pd.DataFrame) -> dict[str, Any]:
    """Quadratic-weighted kappa and accuracy of predicted levels against ratings (``level_table``)."""
    code = {lvl: i for i, lvl in enumerate(RATING_LEVELS)}
    rated, predicted = table["rating"].map(code), table["predicted"].map(code)
    return {"ratings": len(table), "kappa": cohen_kappa(rated, predicted, weights="quadratic"),
            "accuracy": float((rated == predicted).mean()) if len(table) else float("nan")}


def choose_level_thresholds(table: pd.DataFrame, current: LevelThresholds) -> tuple[LevelThresholds, dict[str, Any]]:
    """The some/strong score cut-offs that agree best with reviewers' ratings.

    Searches whole-number cut-offs (competency scores are sums of ±1) for the
    best quadratic-weighted kappa, then accuracy, then the least change.

    Args:
        table: from :func:`level_table` (its ``score`` column is used).
        current: the level thresholds in force.

    Returns:
        (new level thresholds, figures: kappa, accuracy and ratings before and after).
    """
    before = level_agreement(table.assign(predicted=score_levels(table["score"], current)))
    if len(table) == 0:
        return current, {"before": before, "after": before}
    top = int(np.ceil(table["score"].max())) + 1
    best, best_key = current, None
    for some in range(0, top + 1):
        for strong in range(some + 1, top + 2):
            levels = dataclasses.replace(current, some_min_score=some, strong_min_score=strong)
            fig = level_agreement(table.assign(predicted=score_levels(table["score"], levels)))
            change = abs(some - current.some_min_score) + abs(strong - current.strong_min_score)
            key = (np.nan_to_num(fig["kappa"], nan=-2.0), fig["accuracy"], -change)
            if best_key is None or key > best_key:
                best, best_key = levels, key
    after = level_agreement(table.assign(predicted=score_levels(table["score"], best)))
    return best, {"before": before, "after": after}


# --- the whole calibration --------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Numbers YAML can write: rounded floats, None for NaN."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else round(float(value), 3)
    return value


@dataclass
class Calibration:
    """What :func:`calibrate` found; :func:`write_calibration` writes ``thresholds``."""

    thresholds: Thresholds
    choices: pd.DataFrame
    check: pd.DataFrame
    analyzer: pd.DataFrame
    reviewers: pd.DataFrame
    levels: dict[str, Any] = field(default_factory=dict)


def calibrate(frame: pd.DataFrame, thresholds: Thresholds, rubric: Rubric | None = None,
              ratings: pd.DataFrame | None = None, *, target_precision: float | None = 0.9, split: str = "auto",
              min_positives: float = 3.0, fallback: str = "f1", today: date | None = None) -> Calibration:
    """Tune signal (and, with ratings, level) thresholds on the held-out part of the decisions.

    Args:
        frame: decisions from :func:`load_decisions` (``attrs`` give the provenance).
        thresholds: the thresholds in force; matching and confidence are kept.
        rubric: needed with ``ratings`` (the competencies' signals).
        ratings: overall competency ratings from :func:`load_ratings`.
        target_precision: the precision each signal should reach, or None for the best F1.
        split: how to hold out decisions, see :func:`split_decisions`.
        min_positives: see :func:`choose_threshold`.
        fallback: where the target precision cannot be reached, ``f1`` (the best
            F1) or ``precision`` (the highest reachable); see :func:`choose_threshold`.
        today: the date of the new version (today by default).

    Returns:
        The new thresholds with ``tuned_on`` and ``figures``, and the tables behind them.
    """
    tune, check_part, how = split_decisions(frame, split)
    choices = choose_thresholds(tune, thresholds, target_precision=target_precision, min_positives=min_positives,
                                fallback=fallback)
    signals = {**thresholds.signals, **dict(zip(choices["signal"], choices["threshold"]))}
    new = dataclasses.replace(thresholds, signals={s: float(signals[s]) for s in ALL_SIGNALS if s in signals})
    check = precision_recall_at(check_part, new) if len(check_part) else pd.DataFrame()
    analyzer = analyzer_agreement(tune, new)
    reviewers = reviewer_agreement(frame)
    levels: dict[str, Any] = {}
    if ratings is not None and rubric is not None:
        rated = ratings[ratings["interview"].isin(set(tune["interview"]))] if "split" not in ratings else \
            ratings[ratings["split"].isin(set(tune["split"]))]
        best, levels = choose_level_thresholds(level_table(rated, tune, rubric, new), new.levels)
        new = dataclasses.replace(new, levels=best)
    today = today or date.today()
    digest = frame.attrs.get("sha256") or _sha256(frame.to_csv(index=False).encode("utf-8"))
    tuned_on = {"source": frame.attrs.get("source"), "sha256": digest, "decisions": len(frame),
                "tuning_decisions": len(tune), "tuning_flags": len(flag_votes(tune)),
                "reviewers": sorted(set(frame["reviewer"])), "split": how,
                "target_precision": target_precision, "fallback": fallback if target_precision is not None else None}
    if ratings is not None:
        tuned_on.update(ratings_source=ratings.attrs.get("source"), ratings_sha256=ratings.attrs.get("sha256"))
    figures = {
        "signals": {r.signal: {k: getattr(r, k) for k in ("threshold", "previous", "precision", "recall", "f1",
                                                          "flags", "reached")} for r in choices.itertuples()},
        "check": {r.signal: {"precision": r.precision, "recall": r.recall, "flags": r.flags}
                  for r in check.itertuples()} if len(check) else {},
        "analyzer_kappa": dict(zip(analyzer["signal"], analyzer["kappa"])),
        "reviewer_agreement": {k: reviewers.iloc[-1][k] for k in ("units", "agreement", "pairwise_kappa",
                                                                   "fleiss_kappa", "alpha")},
        **({"levels": levels} if levels else {}),
    }
    new = dataclasses.replace(new, version=f"{today.isoformat()}-calibrated-{digest[:8]}", created=today.isoformat(),
                              tuned_on=_plain(tuned_on), figures=_plain(figures), path=None, sha256=None)
    return Calibration(new, choices, check, analyzer, reviewers, levels)


def write_calibration(calibration: Calibration, path: str | Path) -> Path:
    """Write the calibrated thresholds as a new version of a thresholds file.

    Args:
        calibration: from :func:`calibrate`.
        path: the YAML to write (``models/thresholds.yaml`` to replace the one in force).

    Returns:
        The path written.
    """
    return write_thresholds(calibration.thresholds, path)


def format_calibration(calibration: Calibration) -> str:
    """The chosen thresholds and the figures they reach, as a plain-text table."""

    def f(v: Any) -> str:
        return "  n/a" if v is None or v != v else f"{v:5.3f}"

    check = calibration.check.set_index("signal") if len(calibration.check) else pd.DataFrame()
    kappa = dict(zip(calibration.analyzer["signal"], calibration.analyzer["kappa"]))
    t = calibration.thresholds
    lines = [f"thresholds {t.version}, tuned on {t.tuned_on['tuning_decisions']} of {t.tuned_on['decisions']} "
             f"decisions ({t.tuned_on['split']})",
             f"{'signal':<18} {'before':>6} {'after':>6} {'P':>6} {'R':>6} {'F1':>6} {'flags':>5} {'kappa':>6} "
             f"{'P chk':>6} {'R chk':>6}  note"]
    for r in calibration.choices.itertuples():
        pc = check.loc[r.signal, "precision"] if r.signal in check.index else None
        rc = check.loc[r.signal, "recall"] if r.signal in check.index else None
        lines.append(f"{r.signal:<18} {r.previous:6.2f} {r.threshold:6.2f} {f(r.precision):>6} {f(r.recall):>6} "
                     f"{f(r.f1):>6} {r.flags:5d} {f(kappa.get(r.signal)):>6} {f(pc):>6} {f(rc):>6}  {r.reason}")
    allrow = calibration.reviewers.iloc[-1]
    lines.append(f"analyzer vs reviewers (per answer): kappa {f(kappa.get('all'))}; reviewers on {allrow['units']} "
                 f"answer-signals judged twice or more: Krippendorff's alpha {f(allrow['alpha'])}, "
                 f"Fleiss' kappa {f(allrow['fleiss_kappa'])} ({allrow['fleiss_units']} judged by all)")
    if calibration.levels:
        b, a = calibration.levels["before"], calibration.levels["after"]
        lines.append(f"levels: some >= {t.levels.some_min_score}, strong >= {t.levels.strong_min_score}; weighted "
                     f"kappa with {a['ratings']} ratings {f(b['kappa'])} -> {f(a['kappa'])}, "
                     f"accuracy {f(b['accuracy'])} -> {f(a['accuracy'])}")
    return "\n".join(lines)


__all__ = [
    "Calibration",
    "ThresholdChoice",
    "analyzer_agreement",
    "answer_verdicts",
    "calibrate",
    "choose_level_thresholds",
    "choose_threshold",
    "choose_thresholds",
    "cohen_kappa",
    "competency_scores",
    "disagreements",
    "flag_votes",
    "fleiss_kappa",
    "format_calibration",
    "krippendorff_alpha",
    "level_agreement",
    "level_table",
    "load_decisions",
    "load_ratings",
    "missed_weight",
    "normalize_decisions",
    "precision_recall_at",
    "precision_recall_table",
    "rejection_rates",
    "reviewer_agreement",
    "score_levels",
    "split_decisions",
    "tune_threshold_cv",
    "write_calibration",
]
