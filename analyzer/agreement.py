"""Agreement between the analyzer and reviewers, and between reviewers, measured per answer.

Cohen's kappa (two raters), Fleiss' kappa and Krippendorff's alpha (nominal;
several raters, missing judgements allowed), written with numpy; the tables the
calibration notebooks show. :mod:`analyzer.calibrate` re-exports these names.
"""

from __future__ import annotations

from itertools import combinations
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .rubric import ALL_SIGNALS, QUESTION_SPECIFIC
from .thresholds import Thresholds

#: A flag: one analyzer finding on one answer.
FLAG_KEY = ("interview", "entry", "signal", "rule_id", "start_char", "end_char")
#: A unit of agreement: one signal on one answer.
UNIT_KEY = ("interview", "entry", "signal")


def cohen_kappa(a: Iterable, b: Iterable, *, weights: str | None = None) -> float:
    """Cohen's kappa of two raters over the same items (NaN when undefined).

    Args:
        a: the first rater's labels.
        b: the second rater's labels, item for item.
        weights: None, ``linear`` or ``quadratic`` (ordered labels).

    Returns:
        Kappa in -1..1; NaN when there are no items or chance agreement is 1.

    >>> round(cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]), 3)
    0.5
    """
    from sklearn.metrics import cohen_kappa_score

    a, b = list(a), list(b)
    if not a or len(set(a) | set(b)) < 2:
        return float("nan")
    return float(cohen_kappa_score(a, b, weights=weights, labels=sorted(set(a) | set(b))))


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from an items × categories table of rating counts.

    Every item must have the same number of ratings (at least two).

    Args:
        counts: ``counts[i, j]`` is how many raters put item ``i`` in category ``j``.

    Returns:
        Kappa; NaN when chance agreement is 1 (all ratings in one category).

    Raises:
        ValueError: items have different numbers of ratings, or fewer than two.

    >>> round(fleiss_kappa(np.array([[2, 0], [0, 2], [1, 1]])), 3)
    0.333
    """
    counts = np.asarray(counts, dtype=float)
    n = counts.sum(axis=1)
    if counts.ndim != 2 or len(counts) == 0 or not np.all(n == n[0]) or n[0] < 2:
        raise ValueError("fleiss_kappa needs the same number (>= 2) of ratings for every item")
    n = n[0]
    p_j = counts.sum(axis=0) / counts.sum()
    p_i = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    p_e = float((p_j**2).sum())
    return float("nan") if np.isclose(p_e, 1.0) else float((p_i.mean() - p_e) / (1 - p_e))


def krippendorff_alpha(ratings: np.ndarray) -> float:
    """Krippendorff's alpha for nominal data from a units × raters table with NaN for "not rated".

    Units rated by fewer than two raters are left out, so raters may judge
    different units.

    Args:
        ratings: numeric category codes, NaN where a rater did not rate a unit.

    Returns:
        Alpha (1 perfect, 0 chance); NaN when fewer than two values are pairable
        or all pairable values are equal.

    >>> round(krippendorff_alpha(np.array([[1, 1], [0, 0], [1, 0], [1, np.nan]])), 3)
    0.444
    """
    ratings = np.asarray(ratings, dtype=float)
    categories = np.unique(ratings[~np.isnan(ratings)])
    index = {c: i for i, c in enumerate(categories)}
    coincidences = np.zeros((len(categories), len(categories)))
    for unit in ratings:
        values = unit[~np.isnan(unit)]
        m = len(values)
        if m < 2:
            continue
        counts = np.bincount([index[v] for v in values], minlength=len(categories)).astype(float)
        coincidences += (np.outer(counts, counts) - np.diag(counts)) / (m - 1)
    n_c = coincidences.sum(axis=1)
    n = n_c.sum()
    expected = (np.outer(n_c, n_c).sum() - (n_c**2).sum())
    if n < 2 or expected == 0:
        return float("nan")
    observed = coincidences.sum() - np.trace(coincidences)
    return float(1 - (n - 1) * observed / expected)


def answer_verdicts(frame: pd.DataFrame, thresholds: Mapping[str, float] | Thresholds | None = None) -> pd.DataFrame:
    """Per answer and signal, each reviewer's verdict and (with thresholds) the analyzer's.

    A reviewer who judged an answer (made any decision on it) says a signal is
    present when they confirmed one of its flags or added it, absent otherwise,
    so every signal of the decisions is a unit of every judged answer; the
    question-specific signals (persistence, follow-up attitude) only where the
    answer has a decision on them. The analyzer says present when a flag of the
    signal on that answer passes its threshold.

    Args:
        frame: decisions.
        thresholds: signal → minimum score, or a :class:`Thresholds`; adds an ``analyzer`` column.

    Returns:
        One row per (interview, entry, signal, reviewer) with ``reviewer_verdict``
        and, with thresholds, ``analyzer`` (both 0/1).
    """
    general = pd.DataFrame({"signal": [s for s in ALL_SIGNALS if s in set(frame["signal"]) and s not in QUESTION_SPECIFIC]})
    reviewers = frame[["interview", "entry", "reviewer"]].drop_duplicates()
    specific = frame.loc[frame["signal"].isin(QUESTION_SPECIFIC), list(UNIT_KEY)].drop_duplicates()
    pairs = pd.concat([reviewers.merge(general, how="cross"), reviewers.merge(specific, on=["interview", "entry"])])
    said = frame.groupby(list(UNIT_KEY) + ["reviewer"])["verdict"].max().rename("reviewer_verdict")
    out = pairs.join(said, on=list(UNIT_KEY) + ["reviewer"]).reset_index(drop=True)
    out["reviewer_verdict"] = out["reviewer_verdict"].fillna(0).astype(int)
    if thresholds is not None:
        limit = thresholds.signal if isinstance(thresholds, Thresholds) else (lambda s: float(thresholds.get(s, 0.5)))
        best = frame.groupby(list(UNIT_KEY))["score"].max()
        scores = out.join(best.rename("best_score"), on=list(UNIT_KEY))["best_score"]
        out["analyzer"] = [int(score >= limit(sig)) for score, sig in zip(scores.fillna(-1.0), out["signal"])]
    return out


def analyzer_agreement(frame: pd.DataFrame, thresholds: Mapping[str, float] | Thresholds,
                       by: str = "signal") -> pd.DataFrame:
    """Cohen's kappa between the analyzer (at these thresholds) and the reviewers, per answer.

    Args:
        frame: decisions.
        thresholds: signal → minimum score, or a :class:`Thresholds`.
        by: ``signal`` or ``reviewer``.

    Returns:
        One row per group plus ``all``: ``pairs`` (answer × signal × reviewer),
        ``agreement`` (share equal), ``kappa``.
    """
    verdicts = answer_verdicts(frame, thresholds)
    rows = []
    for name, part in list(verdicts.groupby(by, sort=False)) + [("all", verdicts)]:
        rows.append({by: name, "pairs": len(part),
                     "agreement": float((part["analyzer"] == part["reviewer_verdict"]).mean()),
                     "kappa": cohen_kappa(part["analyzer"], part["reviewer_verdict"])})
    out = pd.DataFrame(rows)
    if by == "signal":
        order = {s: i for i, s in enumerate(ALL_SIGNALS + ("all",))}
        out = out.sort_values("signal", key=lambda c: c.map(order)).reset_index(drop=True)
    return out


def reviewer_agreement(frame: pd.DataFrame) -> pd.DataFrame:
    """Agreement between reviewers on answers that more than one judged, per signal.

    Args:
        frame: decisions.

    Returns:
        One row per signal plus ``all``: ``units`` (answer × signal judged at
        least twice), ``agreement`` (share of units where all agree),
        ``pairwise_kappa`` (mean Cohen's kappa over reviewer pairs),
        ``fleiss_kappa`` (units judged by the most reviewers), ``fleiss_units``,
        ``alpha`` (Krippendorff, nominal, every unit judged at least twice).
    """
    wide = answer_verdicts(frame).pivot_table(index=list(UNIT_KEY), columns="reviewer", values="reviewer_verdict")
    wide = wide[wide.notna().sum(axis=1) >= 2]
    rows = []
    signals = wide.index.get_level_values("signal")
    for name in [s for s in ALL_SIGNALS if s in set(signals)] + ["all"]:
        part = wide if name == "all" else wide[signals == name]
        rated = part.notna().sum(axis=1)
        kappas = []
        for a, b in combinations(part.columns, 2):
            both = part[[a, b]].dropna()
            if len(both) >= 2:
                kappas.append(cohen_kappa(both[a], both[b]))
        full = part[rated == rated.max()] if len(part) else part
        counts = np.column_stack([(full == 0).sum(axis=1), (full == 1).sum(axis=1)]) if len(full) else np.empty((0, 2))
        fleiss = fleiss_kappa(counts) if len(full) >= 2 else float("nan")
        same = part.apply(lambda r: r.dropna().nunique() == 1, axis=1) if len(part) else pd.Series(dtype=bool)
        rows.append({"signal": name, "units": len(part), "agreement": float(same.mean()) if len(part) else np.nan,
                     "pairwise_kappa": float(np.nanmean(kappas)) if np.isfinite(kappas).any() else np.nan,
                     "fleiss_kappa": fleiss, "fleiss_units": len(full),
                     "alpha": krippendorff_alpha(part.to_numpy()) if len(part) else np.nan})
    return pd.DataFrame(rows)


def rejection_rates(frame: pd.DataFrame, by: str | list[str] = "signal") -> pd.DataFrame:
    """How often reviewers reject flags, per group (signal, reviewer, question, …).

    Args:
        frame: decisions.
        by: column(s) to group by, e.g. ``"signal"``, ``["reviewer", "signal"]``,
            ``["competency", "question_id"]``.

    Returns:
        Per group: ``judged`` (confirm + reject), ``rejected``, ``reject_share``,
        ``added`` and the most frequent rejection ``top_note``; most rejected first.
    """
    by = [by] if isinstance(by, str) else list(by)
    notes = frame[(frame["decision"] == "reject") & (frame["note"].fillna("") != "")]
    top = notes.groupby(by)["note"].agg(lambda n: n.value_counts().index[0]).rename("top_note")
    out = frame.groupby(by).agg(judged=("decision", lambda d: int((d != "added").sum())),
                                rejected=("decision", lambda d: int((d == "reject").sum())),
                                added=("decision", lambda d: int((d == "added").sum())))
    out["reject_share"] = out["rejected"] / out["judged"].where(out["judged"] > 0)
    out = out.join(top).fillna({"top_note": ""})
    return out.sort_values(["reject_share", "judged"], ascending=False).reset_index()


def disagreements(frame: pd.DataFrame) -> pd.DataFrame:
    """Flags that reviewers judged differently, one row per flag with each reviewer's decision.

    Args:
        frame: decisions.

    Returns:
        Columns of ``FLAG_KEY``, ``score``, ``text`` and one column per reviewer
        (confirm/reject, empty where they did not judge the flag).
    """
    judged = frame[frame["decision"] != "added"]
    split = judged.groupby(list(FLAG_KEY))["verdict"].transform("nunique") > 1
    part = judged[split]
    if part.empty:
        return pd.DataFrame(columns=list(FLAG_KEY) + ["score", "text"])
    wide = part.pivot_table(index=list(FLAG_KEY) + ["score", "text"], columns="reviewer", values="decision",
                            aggfunc="first", fill_value="")
    return wide.reset_index().rename_axis(columns=None)
