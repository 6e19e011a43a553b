"""Generate the simulated reviewer decisions and ratings in this folder.

Run from the repository root::

    python sample_data/decisions/make_decisions.py

It analyses every labelled transcript and answers file of ``sample_data/dev`` and
``sample_data/heldout`` with all signal thresholds at 0, so every candidate flag
is listed, and lets three simulated reviewers judge the flags against the labels
(``sample_data/LABELS.md``): a reviewer confirms a flag when the labels say its
signal is present in that answer, rejects it otherwise, and errs at a seeded,
per-reviewer rate. Signals the labels list but the analyzer missed are "added".
Reviewers also rate each competency of the transcripts none/some/strong from the
labelled signals, with seeded noise. The output is deterministic for a given
state of the analyzer and the labels.

Writes ``decisions.csv`` and ``ratings.csv`` (columns: see README.md).
"""

from __future__ import annotations

import csv
import dataclasses
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout

from analyzer.nlp import get_nlp  # noqa: E402
from analyzer.pipeline import analyze_transcript  # noqa: E402
from analyzer.rubric import ALL_SIGNALS, QUESTION_SPECIFIC, load_rubric, load_yaml  # noqa: E402
from analyzer.signals import detect_signals, load_rules  # noqa: E402
from analyzer.thresholds import load_thresholds  # noqa: E402
from analyzer.transcripts import read_transcript  # noqa: E402

SEED = 20261126
SPLITS = ("dev", "heldout")
DECISION_FIELDS = ("decision_id", "interview", "split", "language", "entry", "answer_id", "competency", "question_id",
                   "signal", "rule_id", "start_char", "end_char", "score", "value", "text", "decision", "reviewer",
                   "note", "time")
RATING_FIELDS = ("interview", "split", "language", "competency", "reviewer", "rating", "answer_words", "time")

# error: chance of judging a flag against the labels; strict/lenient: extra chance of
# rejecting a true flag / confirming a false one of these signals; miss: chance of not
# adding a signal the analyzer missed; shift: chance of rating a competency one level off.
REVIEWERS = {
    "anna.k": {"error": 0.04, "strict": {}, "lenient": {}, "miss": 0.2, "shift": 0.1, "bias": 0},
    "boris.m": {"error": 0.08, "strict": {"metric": 0.3, "shared_credit": 0.25, "story": 0.15}, "lenient": {},
                "miss": 0.4, "shift": 0.2, "bias": -1},
    "chloe.r": {"error": 0.10, "strict": {}, "lenient": {"ownership": 0.3, "cause_effect": 0.2, "story": 0.2},
                "miss": 0.3, "shift": 0.15, "bias": 1},
}
SECOND_REVIEW = 0.35  # share of answers a second reviewer judges too
THIRD_REVIEW = 0.15  # share of answers all three judge
REJECT_NOTES = {
    "example": "general talk, no concrete case",
    "analogy": "'like' used as a filler or verb",
    "stepwise": "a list of options, not ordered steps",
    "ownership": "'we' or passing it on, not the candidate's own action",
    "story": "habit or hypothetical, not one situation",
    "metric": "the number is not an outcome",
    "shared_credit": "not crediting the team",
    "deflection": "the candidate does own it",
    "jargon": "terms are explained right away",
    "cause_effect": "no causal link, just a connective",
    "alternatives": "no options weighed",
    "persistence": "not the silent-client case",
    "followup_attitude": "wrong polarity",
    "self_reflection": "no look at themselves",
}
LEVEL_ORDER = ("none", "some", "strong")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _truth(signal: str, value, labels: dict) -> bool:
    """Whether the labels say this flag's signal is present in the answer."""
    if signal == "persistence":
        return int(labels.get("persistence") or 0) > 0
    if signal == "followup_attitude":
        return labels.get("followup_attitude") is not None and value == labels["followup_attitude"]
    return signal in (labels.get("signals") or ())


def _labelled_signals(labels: dict) -> set[str]:
    present = set(labels.get("signals") or ())
    if int(labels.get("persistence") or 0) > 0:
        present.add("persistence")
    if labels.get("followup_attitude") is not None:
        present.add("followup_attitude")
    return present


def collect_answers(rubric, thresholds, rules) -> tuple[list[dict], list[dict]]:
    """Every labelled answer with its candidate flags, and every rated competency of a transcript."""
    answers, competencies = [], []
    zero = dataclasses.replace(thresholds, signals={s: 0.0 for s in ALL_SIGNALS})
    for split in SPLITS:
        folder = ROOT / "sample_data" / split
        for labels_path in sorted(folder.glob("*.labels.yaml")):
            labels = load_yaml(labels_path)
            transcript = read_transcript(folder / labels["transcript"])
            report = analyze_transcript(transcript, rubric, zero, rules, language=labels.get("language", "auto"))
            interview = f"{split}/{labels_path.name.removesuffix('.labels.yaml')}"
            for item in labels.get("questions") or []:
                needle = _norm(item["asked"])
                entry = next((e for e in report.questions if needle in _norm(e.asked)), None)
                if entry is None or not entry.answer:
                    continue
                answers.append({"interview": interview, "split": split, "language": report.language,
                                "entry": entry.index, "answer_id": "", "competency": entry.competency or "",
                                "question_id": entry.question_id or "", "flags": list(entry.signals), "labels": item})
            for summary in report.competencies:
                if summary.level in ("not_asked", "insufficient"):
                    continue
                items = [q for q in labels.get("questions") or [] if q.get("competency") == summary.competency]
                competencies.append({"interview": interview, "split": split, "language": report.language,
                                     "competency": summary.competency, "answer_words": summary.answer_words,
                                     "level": _labelled_level(rubric, summary.competency, items, thresholds)})
        for answers_path in sorted(folder.glob("answers_*.yaml")):
            data = load_yaml(answers_path)
            language = data.get("language", "ru")
            nlp = get_nlp(language)
            items = data.get("answers") or []
            for index, (item, doc) in enumerate(zip(items, nlp.pipe(str(a["text"]) for a in items))):
                # As the pipeline does, the question-specific signals count only on the question that
                # asks for them; here the label's persistence/followup_attitude key says which that is.
                allowed = {s for s in ALL_SIGNALS if s not in QUESTION_SPECIFIC or s in item}
                answers.append({"interview": f"{split}/{answers_path.stem}", "split": split, "language": language,
                                "entry": index, "answer_id": item["id"], "competency": item.get("competency") or "",
                                "question_id": "", "flags": detect_signals(doc, rules, language, signals=allowed),
                                "labels": item})
    return answers, competencies


def _labelled_level(rubric, competency: str, items: list[dict], thresholds) -> str:
    """The level the labels support, scored as ``report.build_summaries`` scores flags."""
    present: set[str] = set()
    persistence, attitude = 0, None
    for item in items:
        present |= _labelled_signals(item)
        persistence = max(persistence, int(item.get("persistence") or 0))
        attitude = item.get("followup_attitude") or attitude
    score = 0
    for sid, direction in rubric.competency(competency).signals.items():
        if sid not in present:
            continue
        sign = {"positive": 1, "negative": -1}.get(direction, 0)
        if sid == "followup_attitude":
            sign *= 1 if attitude == "positive" else -1
        elif sid == "persistence":
            sign *= 1 if persistence >= 3 else 0
        score += sign
    if score >= thresholds.levels.strong_min_score:
        return "strong"
    return "some" if score >= thresholds.levels.some_min_score else "none"


def _reviewers_of(rng: np.random.Generator) -> list[str]:
    names = list(REVIEWERS)
    order = [names[i] for i in rng.permutation(len(names))]
    draw = rng.random()
    return order[:3] if draw < THIRD_REVIEW else order[:2] if draw < THIRD_REVIEW + SECOND_REVIEW else order[:1]


def simulate(answers: list[dict], competencies: list[dict], seed: int = SEED) -> tuple[list[dict], list[dict]]:
    """Seeded reviewer decisions on the flags, and seeded competency ratings."""
    rng = np.random.default_rng(seed)
    clock = datetime(2026, 11, 16, 9, 0, tzinfo=timezone.utc)
    decisions, ratings = [], []

    def tick() -> str:
        nonlocal clock
        clock += timedelta(seconds=int(rng.integers(20, 240)))
        return clock.isoformat(timespec="seconds")

    for answer in answers:
        labels = answer["labels"]
        base = {k: answer[k] for k in ("interview", "split", "language", "entry", "answer_id", "competency", "question_id")}
        for reviewer in _reviewers_of(rng):
            profile = REVIEWERS[reviewer]
            for flag in answer["flags"]:
                true = _truth(flag.signal, flag.value, labels)
                if true:
                    wrong = profile["error"] + profile["strict"].get(flag.signal, 0.0)
                else:
                    wrong = profile["error"] + profile["lenient"].get(flag.signal, 0.0)
                confirm = true != (rng.random() < wrong)
                note = "" if confirm or rng.random() < 0.5 else REJECT_NOTES[flag.signal]
                decisions.append({**base, "signal": flag.signal, "rule_id": flag.rule_id, "start_char": flag.start_char,
                                  "end_char": flag.end_char, "score": flag.score,
                                  "value": "" if flag.value is None else flag.value, "text": flag.text[:160],
                                  "decision": "confirm" if confirm else "reject", "reviewer": reviewer, "note": note,
                                  "time": tick()})
            flagged = {f.signal for f in answer["flags"]}
            for signal in sorted(_labelled_signals(labels) - flagged):
                if rng.random() < profile["miss"]:
                    continue
                decisions.append({**base, "signal": signal, "rule_id": "", "start_char": "", "end_char": "", "score": "",
                                  "value": "", "text": "", "decision": "added", "reviewer": reviewer,
                                  "note": "missed by the analyzer", "time": tick()})
    for comp in competencies:
        for reviewer in _reviewers_of(rng):
            profile = REVIEWERS[reviewer]
            level = LEVEL_ORDER.index(comp["level"])
            if rng.random() < profile["shift"]:
                level += profile["bias"] or int(rng.choice([-1, 1]))
            rating = LEVEL_ORDER[min(max(level, 0), len(LEVEL_ORDER) - 1)]
            ratings.append({**{k: comp[k] for k in ("interview", "split", "language", "competency")},
                            "reviewer": reviewer, "rating": rating, "answer_words": comp["answer_words"], "time": tick()})
    for i, row in enumerate(decisions, 1):
        row["decision_id"] = i
    return decisions, ratings


def write_csv(path: Path, rows: list[dict], fields: tuple[str, ...]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    answers, competencies = collect_answers(load_rubric(), load_thresholds(), load_rules())
    decisions, ratings = simulate(answers, competencies)
    write_csv(HERE / "decisions.csv", decisions, DECISION_FIELDS)
    write_csv(HERE / "ratings.csv", ratings, RATING_FIELDS)
    print(f"{len(decisions)} decisions on {len(answers)} answers, {len(ratings)} ratings -> {HERE}")


if __name__ == "__main__":
    main()
