"""The topic classifier: labelled interviewer turns back up cosine similarity
where a turn's extra words dilute it (see analyzer.matching.TopicClassifier)."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest
import yaml

from analyzer.matching import (PROBE, fit_topic_classifier, get_matcher, get_topic_classifier,
                               load_question_turns, normalize)
from analyzer.records import Transcript, Turn
from analyzer.segment import segment_questions
from analyzer.transcripts import read_transcript

ROOT = Path(__file__).resolve().parent.parent
TURNS = ROOT / "models" / "question_turns.yaml"


def _export_module():
    spec = importlib.util.spec_from_file_location("export_question_turns", ROOT / "scripts" / "export_question_turns.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def convo(*lines: str) -> Transcript:
    return Transcript(turns=tuple(Turn(line[0], line[3:]) for line in lines), language="en")


# Case, a probe, a side question, then a new case worded unlike any bank text.
INTERVIEW = convo(
    "I: Tell me about the biggest problem you have had at work.",
    "C: Last year our biggest client nearly churned because a launch slipped by two weeks and I had to fix it.",
    "I: What was your role in that whole thing?",
    "C: I owned the account, so I ran the recovery plan myself and called their CMO every day.",
    "I: By the way, what are your salary expectations for this role?",
    "C: Around seventy thousand.",
    "I: Okay. Imagine a client who signs and then goes silent for a month. What do you do?",
    "C: I call, then email their director.",
    "I: And then what?",
    "C: Then I ask my manager to step in.",
    "I: Suppose the director won't pick up either and nobody answers your emails. Where does that leave you then?",
    "C: Then I pause the work and send a formal letter.",
    "I: Okay, cool, thanks for walking me through all of that. Standard question now, no wrong answer: "
    "what is making you want to leave Northwind at this point?",
    "C: Honestly the company stopped growing and I want bigger accounts.",
)


def _segment(rubric, thresholds, classifier):
    entries, _, _ = segment_questions(INTERVIEW, rubric, get_matcher(rubric), thresholds.matching,
                                      language="en", classifier=classifier)
    return [(e.kind, e.competency) for e in entries]


def test_classifier_opens_questions_that_cosine_files_under_the_current_topic(rubric, thresholds):
    expected = [("bank", "problem_solving"), ("followup", "problem_solving"), ("offscript", None),
                ("bank", "communication"), ("followup", "communication"), ("followup", "communication"),
                ("bank", "empathy")]
    assert _segment(rubric, thresholds, get_topic_classifier(rubric)) == expected
    # without it the new case is taken for a probe of the open topic and "where does that
    # leave you" for the why-left question
    without = _segment(rubric, thresholds, None)
    assert without[3] == ("followup", "problem_solving") and without[5] == ("bank", "empathy")


def test_classifier_thresholds_are_data(rubric, thresholds):
    never = dataclasses.replace(thresholds, matching=dataclasses.replace(
        thresholds.matching, topic_new_min_probability=1.01, topic_reassign_min_probability=1.01, topic_followup_min_probability=1.01,
        topic_offscript_min_probability=1.01))
    assert _segment(rubric, never, get_topic_classifier(rubric)) == _segment(rubric, never, None)


def test_probes_do_not_vote_for_a_competency(rubric):
    classifier = get_topic_classifier(rubric)
    for probe in ("And then what?", "What happened next?", "А дальше что?"):
        topics = classifier.topics([normalize(probe)])[0]
        others = {c: p for c, p in topics.items() if c != PROBE}
        assert max(others.values()) < 0.7, (probe, topics)


def test_without_labelled_turns_there_is_no_classifier_and_analysis_still_runs(rubric, thresholds, tmp_path):
    assert get_topic_classifier(rubric, tmp_path / "none.yaml") is None
    assert load_question_turns(tmp_path / "none.yaml") == ()
    assert _segment(rubric, thresholds, None)[0] == ("bank", "problem_solving")


def test_classifier_learns_only_from_the_turns_it_is_given(rubric):
    """A wording no writer used is unknown until a labelled turn teaches it."""
    turns = [t for t in load_question_turns() if "ромашк" not in t.text.lower()]
    assert turns
    doc = normalize("А у вас в Ромашке как с переработками?", "ru")
    base = fit_topic_classifier(rubric, turns).topics([doc])[0]
    taught = turns + [dataclasses.replace(turns[0], language="ru", text=t, kind="offscript", competency=None)
                      for t in ("А у вас в Ромашке как с переработками?", "В Ромашке часто переработки?",
                                "Ромашка платит за переработки?")]
    after = fit_topic_classifier(rubric, taught).topics([doc])[0]
    assert after["offscript"] > base["offscript"]


def test_turns_file_is_exported_from_the_current_dev_labels():
    module = _export_module()
    turns = module.labelled_turns(ROOT / "sample_data" / "dev")
    data = yaml.safe_load(TURNS.read_text(encoding="utf-8"))
    assert data["sha256"] == module.turns_digest(turns) and data["count"] == len(turns), "run: python scripts/export_question_turns.py"


def test_turns_file_holds_nothing_of_the_heldout_set():
    texts = {" ".join(t.text.lower().split()) for t in load_question_turns()}
    heldout = ROOT / "sample_data" / "heldout"
    for path in sorted(heldout.iterdir()):
        if path.suffix in (".txt", ".vtt", ".srt", ".json") and not path.name.startswith("answers"):
            for turn in read_transcript(path).turns:
                if len(turn.text.split()) < 10:
                    continue  # two writers may well both ask "How did that happen in the first place?"
                assert " ".join(turn.text.lower().split()) not in texts, (path.name, turn.text[:60])


def test_export_refuses_the_heldout_folder(tmp_path):
    with pytest.raises(SystemExit, match="held-out"):
        _export_module().main([str(ROOT / "sample_data" / "heldout"), str(tmp_path / "x.yaml")])
