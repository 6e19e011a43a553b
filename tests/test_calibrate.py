"""Calibration: decisions → precision/recall, thresholds, agreement, levels, the thresholds file and the CLI."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analyzer.calibrate import (
    analyzer_agreement,
    calibrate,
    choose_level_thresholds,
    choose_threshold,
    cohen_kappa,
    competency_scores,
    disagreements,
    fleiss_kappa,
    krippendorff_alpha,
    load_decisions,
    load_ratings,
    normalize_decisions,
    precision_recall_at,
    precision_recall_table,
    rejection_rates,
    reviewer_agreement,
    split_decisions,
    tune_threshold_cv,
    write_calibration,
)
from analyzer.errors import InputError
from analyzer.rubric import ALL_SIGNALS
from analyzer.thresholds import LevelThresholds, load_thresholds, write_thresholds

ROOT = Path(__file__).resolve().parent.parent
DECISIONS = ROOT / "sample_data" / "decisions"


@pytest.fixture(scope="module")
def sample():
    return load_decisions(DECISIONS)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Decisions from (interview, entry, signal, score, decision, reviewer) tuples."""
    columns = ["interview", "entry", "signal", "score", "decision", "reviewer"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["rule_id"] = [f"{s}.test.v1" if d != "added" else "" for s, d in zip(frame["signal"], frame["decision"])]
    return normalize_decisions(frame, "test")


# Four metric flags on four answers and one missed metric: flag at 0.9 split 1:1 by two reviewers.
HAND = [
    ("a", 0, "metric", 0.6, "reject", "r1"),
    ("a", 1, "metric", 0.6, "confirm", "r1"),
    ("a", 2, "metric", 0.8, "confirm", "r1"),
    ("a", 3, "metric", 0.9, "confirm", "r1"),
    ("a", 3, "metric", 0.9, "reject", "r2"),
    ("a", 4, "metric", None, "added", "r1"),
]


# --- precision, recall, thresholds ------------------------------------------------------


@pytest.mark.parametrize("threshold,precision,recall", [(0.6, 2.5 / 4, 2.5 / 3.5), (0.8, 1.5 / 2, 1.5 / 3.5),
                                                         (0.9, 0.5 / 1, 0.5 / 3.5)])
def test_calibrate_precision_recall_by_hand(threshold, precision, recall):
    table = precision_recall_table(_frame(HAND), "metric").set_index("threshold")
    assert table.loc[threshold, "precision"] == pytest.approx(precision)
    assert table.loc[threshold, "recall"] == pytest.approx(recall)
    at = precision_recall_at(_frame(HAND), {"metric": threshold}).iloc[0]
    assert (at["precision"], at["recall"]) == pytest.approx((precision, recall))


@pytest.mark.parametrize("target,fallback,expected,reached", [
    (0.7, "f1", 0.8, True),
    (0.99, "f1", 0.6, False),  # F1: 0.667 at 0.6, 0.545 at 0.8, 0.222 at 0.9
    (0.99, "precision", 0.8, False),  # the highest precision: 0.75 at 0.8
    (None, "precision", 0.6, False),
])
def test_calibrate_choose_threshold_target_or_best_f1(target, fallback, expected, reached):
    choice = choose_threshold(_frame(HAND), "metric", target_precision=target, min_positives=1, min_flags=1,
                              fallback=fallback)
    assert (choice.threshold, choice.reached) == (expected, reached)


@pytest.mark.parametrize("target", [0.9])
def test_calibrate_choose_threshold_keeps_previous_on_too_little_data(target):
    choice = choose_threshold(_frame(HAND[:2]), "metric", target_precision=target, previous=0.42, min_positives=3)
    assert choice.threshold == 0.42 and not choice.reached and choice.reason.startswith("kept")


@pytest.mark.parametrize("target", [0.9, 0.8])
def test_calibrate_thresholds_reach_target_precision_on_heldout(sample, thresholds, rubric, target):
    result = calibrate(sample, thresholds, rubric, load_ratings(DECISIONS), target_precision=target)
    heldout = sample[sample["split"] == "heldout"]
    reached = result.choices[result.choices["reached"]]
    assert len(reached) >= 3, result.choices
    # Recomputed independently of the choice, on the held-out part at the written thresholds.
    at = precision_recall_at(heldout, result.thresholds).set_index("signal")
    for signal in reached["signal"]:
        assert at.loc[signal, "precision"] >= target - 1e-9, signal
        assert at.loc[signal, "flags"] >= 5
    assert "heldout" in result.thresholds.tuned_on["split"]


@pytest.mark.parametrize("split", ["material"])
def test_calibrate_tunes_only_on_heldout_material(sample, thresholds, split):
    """Changing dev decisions does not move a threshold; the dev part only checks."""
    flipped = sample.copy()
    dev = flipped["split"] == "dev"
    flipped.loc[dev, "verdict"] = 1 - flipped.loc[dev, "verdict"]
    flipped.loc[dev, "decision"] = np.where(flipped.loc[dev, "verdict"] == 1, "confirm", "reject")
    a = calibrate(sample, thresholds, split=split).thresholds.signals
    b = calibrate(flipped, thresholds, split=split).thresholds.signals
    assert a == b


@pytest.mark.parametrize("test_size", [0.5])
def test_calibrate_stratified_split_keeps_answers_whole(sample, test_size):
    tune, check, how = split_decisions(sample, "stratified", test_size=test_size, seed=1)
    key = lambda f: set(zip(f["interview"], f["entry"]))  # noqa: E731
    assert len(tune) and len(check) and not key(tune) & key(check)
    assert len(tune) + len(check) == len(sample) and "stratified" in how
    assert set(tune["signal"]) == set(check["signal"]) == set(sample["signal"])


@pytest.mark.parametrize("signal", ["metric"])
def test_calibrate_tune_threshold_cv_separates_clean_data(signal):
    rows = [("x", i, signal, 0.3, "reject", "r1") for i in range(10)]
    rows += [("x", 10 + i, signal, 0.8, "confirm", "r1") for i in range(10)]
    assert tune_threshold_cv(_frame(rows), signal, cv=5) == pytest.approx(0.8)
    assert math.isnan(tune_threshold_cv(_frame(rows[9:]), signal))  # one rejected flag: nothing to validate
    same = [(i, d, 0.5) for i, d in enumerate(["confirm", "reject"] * 5)]
    assert math.isnan(tune_threshold_cv(_frame([("x", i, signal, sc, d, "r1") for i, d, sc in same]), signal))


# --- agreement --------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [None])
def test_calibrate_cohen_kappa_hand_computed(weights):
    # 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: po = 0.7, pe = 0.5·0.6 + 0.5·0.4 = 0.5, kappa = 0.4.
    a = [1] * 25 + [0] * 25
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(a, b, weights=weights) == pytest.approx(0.4)
    assert math.isnan(cohen_kappa([1, 1], [1, 1]))


@pytest.mark.parametrize("counts,expected", [
    ([[2, 0], [0, 2], [1, 1]], 1 / 3),  # P̄ = 2/3, Pe = 1/2
    # Fleiss (1971) as worked in Wikipedia: 10 subjects, 14 raters, 5 categories.
    ([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1], [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]], 0.20993),
])
def test_calibrate_fleiss_kappa_hand_computed(counts, expected):
    assert fleiss_kappa(np.array(counts)) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("counts", [[[2, 0], [1, 2]]])
def test_calibrate_fleiss_kappa_rejects_unequal_raters(counts):
    with pytest.raises(ValueError):
        fleiss_kappa(np.array(counts))


N = np.nan


@pytest.mark.parametrize("ratings,expected", [
    ([[1, 1], [0, 0], [1, 0], [1, N]], 1 - 5 * 2 / 18),  # o = [[2,1],[1,2]], n_c = 3, 3
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: 0.743.
    (np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
               [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N]]).T, 0.743),
])
def test_calibrate_krippendorff_alpha_hand_computed(ratings, expected):
    assert krippendorff_alpha(np.array(ratings)) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize("signal", ["metric"])
def test_calibrate_reviewer_agreement_per_answer(signal):
    # Two reviewers on four answers: [1, 1, 0, 0] vs [1, 0, 0, 0] → kappa 0.5, agreement 3/4.
    r1, r2 = ["confirm", "confirm", "reject", "reject"], ["confirm", "reject", "reject", "reject"]
    rows = [("x", i, signal, 0.8, d, "r1") for i, d in enumerate(r1)] + [("x", i, signal, 0.8, d, "r2")
                                                                          for i, d in enumerate(r2)]
    table = reviewer_agreement(_frame(rows)).set_index("signal")
    assert table.loc[signal, "units"] == 4
    assert table.loc[signal, "agreement"] == pytest.approx(0.75)
    assert table.loc[signal, "pairwise_kappa"] == pytest.approx(0.5)
    assert table.loc[signal, "fleiss_kappa"] == pytest.approx(fleiss_kappa(np.array([[0, 2], [1, 1], [2, 0], [2, 0]])))


@pytest.mark.parametrize("threshold,kappa", [(0.7, 1.0), (0.5, 0.0)])
def test_calibrate_analyzer_agreement_per_answer(threshold, kappa):
    # Flags at 0.6 are rejected, at 0.8 confirmed: a threshold between agrees on every answer,
    # one below says yes to all (agreement 1/2, kappa 0).
    rows = [("x", 0, "metric", 0.6, "reject", "r1"), ("x", 1, "metric", 0.8, "confirm", "r1"),
            ("x", 2, "metric", 0.6, "reject", "r1"), ("x", 3, "metric", 0.8, "confirm", "r1")]
    table = analyzer_agreement(_frame(rows), {"metric": threshold}).set_index("signal")
    assert table.loc["metric", "pairs"] == 4
    assert table.loc["metric", "kappa"] == pytest.approx(kappa)


@pytest.mark.parametrize("by", ["signal", ["reviewer", "signal"]])
def test_calibrate_rejection_rates_and_disagreements(sample, by):
    rates = rejection_rates(sample, by)
    assert rates["reject_share"].between(0, 1).all()
    assert rates["rejected"].sum() == (sample["decision"] == "reject").sum()
    split = disagreements(sample)
    assert len(split) > 0
    assert all(len({v for v in row if v}) == 2 for row in split[sorted(set(sample["reviewer"]))].itertuples(index=False))


# --- competency levels ------------------------------------------------------------------


@pytest.mark.parametrize("transcript", ["sample_data/dev/ho1_en_zoom.vtt", "sample_data/dev/ru_strong_zoom.vtt"])
def test_calibrate_competency_scores_match_report(transcript, thresholds, rubric):
    """The level tuning scores competencies exactly as report.build_summaries does."""
    from analyzer.pipeline import analyze_transcript
    from analyzer.report import flag_rows
    from analyzer.transcripts import read_transcript

    tr = read_transcript(ROOT / transcript)
    zero = dataclasses.replace(thresholds, signals={s: 0.0 for s in ALL_SIGNALS})
    everything = analyze_transcript(tr, rubric, zero)
    frame = normalize_decisions(pd.DataFrame(flag_rows(everything)).assign(
        interview="t", decision="confirm", reviewer="r"))
    raised = dataclasses.replace(thresholds, signals={s: 0.8 for s in ALL_SIGNALS})
    for current in (thresholds, raised):
        report = analyze_transcript(tr, rubric, current)
        ours = competency_scores(frame, rubric, current).set_index("competency")["score"]
        for summary in report.competencies:
            if summary.level not in ("not_asked",):
                assert ours.get(summary.competency, 0.0) == summary.score, summary.competency


@pytest.mark.parametrize("some,strong", [(2, 4)])
def test_calibrate_level_thresholds_recover_reviewers_cutoffs(some, strong):
    scores = [0, 1, 2, 3, 4, 5, 1, 3, 5, 2]
    ratings = ["strong" if s >= strong else "some" if s >= some else "none" for s in scores]
    table = pd.DataFrame({"score": scores, "rating": ratings})
    levels, figures = choose_level_thresholds(table, LevelThresholds())
    assert (levels.some_min_score, levels.strong_min_score) == (some, strong)
    assert figures["after"]["kappa"] == pytest.approx(1.0) and figures["after"]["accuracy"] == 1.0


# --- loading ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["decisions.jsonl"])
def test_calibrate_load_decisions_csv_and_jsonl(sample, tmp_path, name):
    raw = pd.read_csv(DECISIONS / "decisions.csv", dtype=str, keep_default_na=False)
    (tmp_path / name).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in raw.to_dict("records")),
                                 encoding="utf-8")
    again = load_decisions(tmp_path)
    assert len(again) == len(sample) == sample.attrs["count"]
    assert again["verdict"].sum() == sample["verdict"].sum()
    assert sample.attrs["sha256"] == hashlib.sha256((DECISIONS / "decisions.csv").read_bytes()).hexdigest()
    assert set(sample["decision"]) == {"confirm", "reject", "added"}
    assert set(sample["language"]) == {"ru", "en"} and sample["reviewer"].nunique() == 3


@pytest.mark.parametrize("change,message", [
    (lambda f: f.assign(decision="maybe"), "valid: confirm, reject, added"),
    (lambda f: f.drop(columns=["score"]), "lack column"),
    (lambda f: f.assign(signal="charisma"), "unknown signal"),
])
def test_calibrate_load_decisions_rejects_bad_tables(tmp_path, change, message):
    raw = pd.read_csv(DECISIONS / "decisions.csv", dtype=str, keep_default_na=False).head(20)
    change(raw).to_csv(tmp_path / "decisions.csv", index=False)
    with pytest.raises(InputError, match=message):
        load_decisions(tmp_path)


@pytest.mark.parametrize("path", ["nowhere", "nowhere.db"])
def test_calibrate_load_decisions_missing_source(tmp_path, path):
    with pytest.raises(InputError):
        load_decisions(tmp_path / path)
    assert not (tmp_path / path).exists()  # a missing database is never created


@pytest.mark.parametrize("reviewer", ["anna"])
def test_calibrate_load_decisions_from_store(tmp_path, thresholds, reviewer):
    store = pytest.importorskip("analyzer.store")
    if not hasattr(store.Store, "decisions_frame"):
        pytest.skip("this store has no decisions_frame()")
    from analyzer.pipeline import analyze_file

    transcript, report = analyze_file(ROOT / "sample_data" / "dev" / "ho1_en_zoom.vtt")
    judged = 0
    with store.Store(tmp_path / "t.db") as db:
        report_id = db.latest_report(db.save_analysis(None, transcript, report)).id
        for q in report.questions:
            for i, s in enumerate(q.signals):
                db.set_decision(report_id, (q.index, s.signal, s.rule_id, s.start_char, s.end_char),
                                "reject" if i % 3 == 0 else "confirm", reviewer=reviewer)
                judged += 1
    frame = load_decisions(tmp_path / "t.db")
    assert len(frame) == judged > 0
    assert frame["score"].notna().all() and set(frame["split"]) == {"unknown"}
    result = calibrate(frame, thresholds, min_positives=1)
    assert "stratified" in result.thresholds.tuned_on["split"]


def test_calibrate_reviewer_agreement_from_a_store_where_two_reviewers_judged(tmp_path):
    from analyzer.calibrate import reviewer_agreement
    from analyzer.pipeline import analyze_file
    from analyzer.store import Store

    transcript, report = analyze_file(ROOT / "sample_data" / "dev" / "ho1_en_zoom.vtt")
    flags = [(q.index, s.signal, s.rule_id, s.start_char, s.end_char) for q in report.questions for s in q.signals]
    with Store(tmp_path / "t.db") as db:
        rid = db.latest_report(db.save_analysis(None, transcript, report)).id
        for i, flag in enumerate(flags):
            db.set_decision(rid, flag, "confirm" if i % 2 else "reject", reviewer="anna")
            # boris disagrees on every third flag
            db.set_decision(rid, flag, ("reject" if i % 2 else "confirm") if i % 3 == 0 else
                            ("confirm" if i % 2 else "reject"), reviewer="boris")
    frame = load_decisions(tmp_path / "t.db")
    assert len(frame) == 2 * len(flags) and set(frame["reviewer"]) == {"anna", "boris"}
    overall = reviewer_agreement(frame).set_index("signal").loc["all"]
    assert overall["units"] > 0 and 0 < overall["agreement"] < 1


# --- the thresholds file and the analysis ----------------------------------------------


@pytest.mark.parametrize("target", [0.9])
def test_calibrate_writes_versioned_thresholds_with_provenance(sample, thresholds, rubric, tmp_path, target):
    result = calibrate(sample, thresholds, rubric, load_ratings(DECISIONS), target_precision=target)
    path = write_calibration(result, tmp_path / "thresholds.yaml")
    written = load_thresholds(path)
    assert written.version == result.thresholds.version and "calibrated" in written.version
    assert written.created == result.thresholds.created
    assert written.tuned_on["sha256"] == sample.attrs["sha256"]
    assert written.tuned_on["decisions"] == len(sample)
    assert 0 < written.tuned_on["tuning_decisions"] < len(sample)
    assert written.tuned_on["target_precision"] == target
    assert written.signals == {s: pytest.approx(t) for s, t in zip(result.choices["signal"], result.choices["threshold"])}
    assert written.figures["signals"]["analogy"]["precision"] is not None
    assert written.matching == thresholds.matching  # calibration only touches signals and levels


@pytest.mark.parametrize("transcript", ["sample_data/dev/ho1_en_zoom.vtt"])
def test_calibrate_raised_threshold_removes_flag_from_report(transcript, thresholds, rubric, tmp_path):
    from analyzer.pipeline import analyze_file, analyze_transcript
    from analyzer.transcripts import read_transcript

    tr = read_transcript(ROOT / transcript)
    before = analyze_transcript(tr, rubric, thresholds)
    flags = [(q.index, s) for q in before.questions for s in q.signals if s.score < 1.0]
    assert flags
    index, flag = flags[0]
    raised = dataclasses.replace(thresholds, signals={**thresholds.signals,
                                                           flag.signal: round(flag.score + 0.01, 3)})
    path = write_thresholds(raised, tmp_path / "thresholds.yaml")
    _, after = analyze_file(ROOT / transcript, thresholds_path=path)

    def keys(report, keep):
        return {(q.index, s.signal, s.rule_id, s.start_char) for q in report.questions for s in q.signals if keep(s)}

    gone = keys(before, lambda s: True) - keys(after, lambda s: True)
    assert (index, flag.signal, flag.rule_id, flag.start_char) in gone
    assert all(sig == flag.signal for _, sig, _, _ in gone)  # no other signal changes
    assert keys(after, lambda s: s.signal != flag.signal) == keys(before, lambda s: s.signal != flag.signal)
    assert after.provenance["thresholds_version"] == raised.version


# --- CLI --------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--target-precision", "0.9"], ["--fallback", "precision"],
                                  ["--best-f1", "--split", "stratified"]])
def test_calibrate_cli_prints_table_and_writes(tmp_path, args):
    from analyzer.cli import main

    out = tmp_path / "thresholds.yaml"
    result = CliRunner().invoke(main, ["calibrate", str(DECISIONS), *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "analogy" in result.stdout and "kappa" in result.stdout
    assert load_thresholds(out).tuned_on["sha256"] == hashlib.sha256((DECISIONS / "decisions.csv").read_bytes()).hexdigest()


@pytest.mark.parametrize("source", ["missing-folder"])
def test_calibrate_cli_error_is_one_line(tmp_path, source):
    from analyzer.cli_calibrate import calibrate as command

    result = CliRunner().invoke(command, [str(tmp_path / source)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")


@pytest.mark.parametrize("name", ["calibrate"])
def test_calibrate_cli_has_help_with_example(name):
    from analyzer.cli_calibrate import calibrate as command

    assert command.name == name and "Example:" in command.help


# --- the sample decisions generator -----------------------------------------------------


def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_decisions", DECISIONS / "make_decisions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("copies", [300])
def test_calibrate_simulated_reviewers_follow_labels_with_their_error_rates(copies):
    from analyzer.records import Signal

    gen = _generator()
    flags = [Signal("metric", "metric.test.v1", "15%", 0, 3, 0.8), Signal("analogy", "analogy.test.v1", "like", 4, 8, 0.8)]
    answers = [{"interview": "dev/x", "split": "dev", "language": "en", "entry": i, "answer_id": "",
                "competency": "sales", "question_id": "", "flags": flags, "labels": {"signals": ["metric", "story"]}}
               for i in range(copies)]
    rated = [{"interview": "dev/x", "split": "dev", "language": "en", "competency": "sales", "answer_words": 80,
              "level": "some"}]
    decisions, ratings = gen.simulate(answers, rated, seed=1)
    assert (decisions, ratings) == gen.simulate(answers, rated, seed=1)  # seeded: reproducible
    frame = pd.DataFrame(decisions)
    confirm = frame[frame["decision"] != "added"].assign(ok=lambda f: f["decision"] == "confirm")
    rate = confirm.groupby(["reviewer", "signal"])["ok"].mean()
    assert rate["anna.k", "metric"] > 0.9 and rate["anna.k", "analogy"] < 0.1  # labels: metric yes, analogy no
    assert rate["boris.m", "metric"] < rate["anna.k", "metric"] - 0.15  # strict on metric
    added = frame[frame["decision"] == "added"]
    assert set(added["signal"]) == {"story"} and added["score"].eq("").all()
    assert frame.groupby("entry")["reviewer"].nunique().max() == 3  # some answers judged by all three
    assert {r["rating"] for r in ratings} <= {"none", "some", "strong"}
