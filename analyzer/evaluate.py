"""Measure the analysis against labelled data (``sample_data/dev``, ``sample_data/heldout``).

Question segmentation: competency accuracy of bank questions, the share of
off-script turns left unmatched, follow-ups attached to the right question.
Signals: per-signal precision, recall and F1 at answer level, persistence
counts and follow-up attitude. Label format: ``sample_data/LABELS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .nlp import get_nlp
from .pipeline import analyze_transcript
from .records import QuestionEntry, Report
from .rubric import ALL_SIGNALS, CORE_SIGNALS, Rubric, load_rubric, load_yaml
from .signals import RuleSet, detect_signals, load_rules
from .thresholds import Thresholds, load_thresholds
from .transcripts import read_transcript

#: Signals scored as present/absent (the other two have a value: a count, a polarity).
PRESENCE_SIGNALS = tuple(s for s in ALL_SIGNALS if s not in ("persistence", "followup_attitude"))


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, truth: bool) -> None:
        if predicted and truth:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif truth:
            self.fn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Ratio:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += int(ok)
        self.total += 1

    @property
    def value(self) -> float | None:
        return self.right / self.total if self.total else None


@dataclass
class EvalResult:
    """Everything ``eval`` measures on one folder (or one file)."""

    name: str
    bank: Ratio = field(default_factory=Ratio)
    offscript: Ratio = field(default_factory=Ratio)
    followup: Ratio = field(default_factory=Ratio)
    roles: Ratio = field(default_factory=Ratio)
    signals: dict[str, dict[str, Counts]] = field(default_factory=dict)  # language → signal → counts
    persistence_abs_errors: list[int] = field(default_factory=list)
    attitude: Ratio = field(default_factory=Ratio)
    answers: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: "EvalResult") -> None:
        for name in ("bank", "offscript", "followup", "roles", "attitude"):
            mine, theirs = getattr(self, name), getattr(other, name)
            mine.right += theirs.right
            mine.total += theirs.total
        for lang, per in other.signals.items():
            for sid, c in per.items():
                mc = self.signals.setdefault(lang, {}).setdefault(sid, Counts())
                mc.tp, mc.fp, mc.fn = mc.tp + c.tp, mc.fp + c.fp, mc.fn + c.fn
        self.persistence_abs_errors += other.persistence_abs_errors
        self.answers += other.answers
        self.errors += other.errors

    def signal_table(self) -> dict[str, dict[str, dict[str, float]]]:
        out = {}
        for lang, per in sorted(self.signals.items()):
            out[lang] = {sid: {"precision": round(c.precision, 3), "recall": round(c.recall, 3), "f1": round(c.f1, 3),
                               "support": c.tp + c.fn} for sid, c in per.items()}
        return out

    def macro_f1(self, language: str, signals: tuple[str, ...] = CORE_SIGNALS) -> float | None:
        per = self.signals.get(language, {})
        values = [per[s].f1 for s in signals if s in per and (per[s].tp + per[s].fn) > 0]
        return round(sum(values) / len(values), 3) if values else None

    def to_dict(self) -> dict[str, Any]:
        errs = self.persistence_abs_errors
        return {
            "name": self.name,
            "bank_competency_accuracy": self.bank.value,
            "bank_questions": self.bank.total,
            "offscript_unmatched": self.offscript.value,
            "offscript_turns": self.offscript.total,
            "followup_accuracy": self.followup.value,
            "followups": self.followup.total,
            "roles_accuracy": self.roles.value,
            "answers": self.answers,
            "signals": self.signal_table(),
            "macro_f1_core": {lang: self.macro_f1(lang) for lang in sorted(self.signals)},
            "persistence_mae": round(sum(errs) / len(errs), 2) if errs else None,
            "persistence_within_1": round(sum(e <= 1 for e in errs) / len(errs), 3) if errs else None,
            "followup_attitude_accuracy": self.attitude.value,
            "errors": list(self.errors),
        }


def _find_entry(entries: tuple[QuestionEntry, ...], snippet: str) -> QuestionEntry | None:
    needle = " ".join(snippet.lower().split())
    for e in entries:
        if needle in " ".join(e.asked.lower().split()):
            return e
    return None


def _score_signals(result: EvalResult, language: str, predicted: set[str], truth: set[str], allowed: set[str]) -> None:
    per = result.signals.setdefault(language, {})
    for sid in PRESENCE_SIGNALS:
        if sid in allowed:
            per.setdefault(sid, Counts()).add(sid in predicted, sid in truth)


def evaluate_transcript(
    labels_path: Path, rubric: Rubric, thresholds: Thresholds, rules: RuleSet
) -> tuple[EvalResult, Report | None]:
    """Score one labelled transcript."""
    labels = load_yaml(labels_path, InputError)
    result = EvalResult(name=labels_path.name.replace(".labels.yaml", ""))
    transcript = read_transcript(labels_path.parent / labels["transcript"])
    report = analyze_transcript(transcript, rubric, thresholds, rules, language=labels.get("language", "auto"))
    result.roles.add(report.speakers["interviewer"] == labels.get("interviewer")
                     and report.speakers["candidate"] == labels.get("candidate", report.speakers["candidate"]))
    language = report.language
    for item in labels.get("questions") or []:
        entry = _find_entry(report.questions, item["asked"])
        kind, competency = item["kind"], item.get("competency")
        if kind == "bank":
            result.bank.add(entry is not None and entry.kind in ("bank", "followup") and entry.competency == competency)
        elif kind == "offscript":
            result.offscript.add(entry is None or entry.competency is None)
        elif kind == "followup":
            ok = entry is not None and entry.kind == "followup" and entry.competency == competency
            if ok and item.get("parent"):
                parent = _find_entry(report.questions, item["parent"])
                ok = parent is not None and entry.parent == parent.index
            result.followup.add(ok)
        if entry is None or not entry.answer:
            continue
        result.answers += 1
        predicted = {s.signal for s in entry.signals}
        _score_signals(result, language, predicted, set(item.get("signals") or ()), set(PRESENCE_SIGNALS))
        if "persistence" in item:
            value = next((s.value for s in entry.signals if s.signal == "persistence"), 0) or 0
            result.persistence_abs_errors.append(abs(int(value) - int(item["persistence"])))
        if "followup_attitude" in item:
            value = next((s.value for s in entry.signals if s.signal == "followup_attitude"), None)
            result.attitude.add(value == item["followup_attitude"])
    return result, report


def evaluate_answers(path: Path, thresholds: Thresholds, rules: RuleSet) -> EvalResult:
    """Score a standalone answers file."""
    data = load_yaml(path, InputError)
    language = data.get("language", "ru")
    nlp = get_nlp(language)
    result = EvalResult(name=path.name)
    items = data.get("answers") or []
    for item, doc in zip(items, nlp.pipe(str(a["text"]) for a in items)):
        found = [s for s in detect_signals(doc, rules, language) if s.score >= thresholds.signal(s.signal)]
        predicted = {s.signal for s in found}
        result.answers += 1
        _score_signals(result, language, predicted, set(item.get("signals") or ()), set(PRESENCE_SIGNALS))
        if "persistence" in item:
            value = next((s.value for s in found if s.signal == "persistence"), 0) or 0
            result.persistence_abs_errors.append(abs(int(value) - int(item["persistence"])))
        if "followup_attitude" in item:
            value = next((s.value for s in found if s.signal == "followup_attitude"), None)
            result.attitude.add(value == item["followup_attitude"])
    return result


def evaluate_folder(
    folder: str | Path,
    rubric: Rubric | None = None,
    thresholds: Thresholds | None = None,
    rules: RuleSet | None = None,
) -> tuple[EvalResult, list[EvalResult]]:
    """Evaluate every labelled transcript and answers file in a folder.

    Returns:
        (overall result, per-file results).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder of labelled data", folder)
    rubric = rubric or load_rubric()
    thresholds = thresholds or load_thresholds()
    rules = rules or load_rules()
    overall = EvalResult(name=folder.name)
    per_file = []
    jobs = [(p, lambda p=p: evaluate_transcript(p, rubric, thresholds, rules)[0]) for p in sorted(folder.glob("*.labels.yaml"))]
    jobs += [(p, lambda p=p: evaluate_answers(p, thresholds, rules)) for p in sorted(folder.glob("answers_*.yaml"))]
    for path, run in jobs:
        try:
            result = run()
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"malformed labels ({type(exc).__name__}: {exc}); see sample_data/LABELS.md", path) from None
        except ValueError as exc:
            raise InputError(f"malformed labels ({exc}); see sample_data/LABELS.md", path) from None
        per_file.append(result)
        overall.merge(result)
    if not per_file:
        raise InputError("no *.labels.yaml or answers_*.yaml files here", folder)
    return overall, per_file


def format_result(result: EvalResult, per_file: list[EvalResult] | None = None) -> str:
    """A plain-text table of the figures."""

    def pct(v: float | None) -> str:
        return "  n/a" if v is None else f"{v:5.3f}"

    lines = []
    if per_file:
        lines.append(f"{'file':<34} {'bank':>6} {'offscr':>6} {'follow':>6} {'roles':>6} {'answers':>7}")
        for r in per_file:
            lines.append(f"{r.name:<34} {pct(r.bank.value):>6} {pct(r.offscript.value):>6} {pct(r.followup.value):>6} "
                         f"{pct(r.roles.value):>6} {r.answers:>7}")
        lines.append("")
    d = result.to_dict()
    lines.append(f"== {result.name}")
    lines.append(f"bank-question competency accuracy: {pct(d['bank_competency_accuracy'])}  (n={d['bank_questions']})")
    lines.append(f"off-script turns left unmatched:   {pct(d['offscript_unmatched'])}  (n={d['offscript_turns']})")
    lines.append(f"follow-ups on the right question:  {pct(d['followup_accuracy'])}  (n={d['followups']})")
    lines.append(f"interviewer identified:            {pct(d['roles_accuracy'])}")
    lines.append(f"answers with signal labels:        {d['answers']}")
    for lang, table in d["signals"].items():
        lines.append(f"-- signals ({lang}), macro F1 over core signals: {d['macro_f1_core'][lang]}")
        lines.append(f"   {'signal':<18} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}")
        for sid in PRESENCE_SIGNALS:
            if sid in table:
                row = table[sid]
                lines.append(f"   {sid:<18} {row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f} {row['support']:8d}")
    lines.append(f"persistence: mean abs error {d['persistence_mae']}, within ±1 {d['persistence_within_1']}")
    lines.append(f"follow-up attitude accuracy: {pct(d['followup_attitude_accuracy'])}")
    return "\n".join(lines)


__all__ = ["EvalResult", "evaluate_folder", "evaluate_transcript", "evaluate_answers", "format_result"]
