from __future__ import annotations

import csv
import io
import json

import pytest

from analyzer.pipeline import analyze_transcript
from analyzer.records import Transcript, Turn
from analyzer.report import CSV_FIELDS, LEVELS, to_csv, to_json, to_markdown
from analyzer.transcripts import read_transcript

QUESTION_KEYS = {"asked", "kind", "competency", "question_id", "matched_text", "similarity", "start", "end", "answer", "signals"}
SIGNAL_KEYS = {"signal", "text", "start_char", "end_char", "start", "end", "score", "rule_id"}
COMPETENCY_KEYS = {"competency", "name", "questions", "signals", "evidence", "level", "asked", "skipped"}


@pytest.fixture(scope="module")
def zoom_report(request):
    from pathlib import Path

    return analyze_transcript(read_transcript(Path(__file__).parent / "data" / "zoom.vtt"))


def test_report_json_has_the_contract_fields(zoom_report, rubric):
    d = json.loads(to_json(zoom_report))
    assert d["language"] == "en"
    assert d["speakers"] == {"interviewer": "Anna Petrova", "candidate": "Daniel Kim"}
    for key in ("analyzer_version", "rubric_id", "rubric_version", "thresholds_version"):
        assert d["provenance"][key]
    assert d["questions"] and all(QUESTION_KEYS <= set(q) for q in d["questions"])
    assert all(SIGNAL_KEYS <= set(s) for q in d["questions"] for s in q["signals"])
    assert [c["competency"] for c in d["competencies"]] == [c.id for c in rubric.competencies]
    assert all(COMPETENCY_KEYS <= set(c) and c["level"] in LEVELS for c in d["competencies"])


def test_report_signals_carry_times_and_quotes_from_the_answer(zoom_report):
    q = next(q for q in zoom_report.questions if q.kind == "bank")
    assert q.competency == "client_service" and q.start == pytest.approx(7.3)
    metric = next(s for q in zoom_report.questions for s in q.signals if s.signal == "metric")
    owner = next(e for e in zoom_report.questions if metric in e.signals)
    assert owner.answer[metric.start_char : metric.end_char] == metric.text
    assert 25.6 <= metric.start <= 30.0
    follow = zoom_report.questions[-1]
    assert follow.kind == "followup" and follow.parent == q.index


def test_report_levels_not_asked_insufficient_and_evidence(zoom_report):
    by_id = {c.competency: c for c in zoom_report.competencies}
    assert by_id["sales"].level == "not_asked" and by_id["sales"].skipped
    service = by_id["client_service"]
    assert service.level in ("some", "strong")
    assert service.evidence and all(ev["quote"] and ev["start"] is not None for ev in service.evidence)
    assert any(a["question_id"] == "client_service.unhappy_client" for a in service.asked)

    short = Transcript(turns=(Turn("I", "Why did you leave your last job?"), Turn("C", "Reasons."),
                              Turn("I", "How do you organise your working day?"), Turn("C", "Fine.")))
    levels = {c.competency: c.level for c in analyze_transcript(short, interviewer="I").competencies}
    assert levels["empathy"] == "insufficient"


def test_report_signal_direction_is_a_rubric_setting(rubric, thresholds):
    """Flipping shared_credit from negative to positive changes the problem-solving score, with no code change."""
    import dataclasses

    t = Transcript(turns=(
        Turn("I", "What was the biggest problem you faced at work?"),
        Turn("C", "Our biggest client was about to leave. The whole team worked on it together and we rebuilt the reports, "
                  "we called them every week and we kept the account."),
    ))
    base = next(c for c in analyze_transcript(t, rubric, thresholds, interviewer="I").competencies if c.competency == "problem_solving")
    comps = tuple(
        dataclasses.replace(c, signals={**c.signals, "shared_credit": "positive"}) if c.id == "problem_solving" else c
        for c in rubric.competencies
    )
    flipped_rubric = dataclasses.replace(rubric, competencies=comps)
    flipped = next(c for c in analyze_transcript(t, flipped_rubric, thresholds, interviewer="I").competencies if c.competency == "problem_solving")
    assert "shared_credit" in base.signals
    assert flipped.score == base.score + 2


def test_report_markdown_escapes_transcript_html_and_has_coverage_table(rubric):
    t = Transcript(turns=(Turn("I", "Why did you leave your last job?"), Turn("C", "<script>alert(1)</script> | because of *growth*")))
    md = to_markdown(analyze_transcript(t, interviewer="I"), rubric)
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "| Competency | Asked | Not asked | Level |" in md


def test_report_markdown_in_russian_for_russian_interview(rubric, data_dir):
    md = to_markdown(analyze_transcript(read_transcript(data_dir / "teams.vtt")), rubric)
    assert md.startswith("# Отчёт по интервью") and "Эмпатия" in md and "[00:06]" in md


def test_report_csv_one_row_per_flag(zoom_report):
    rows = list(csv.DictReader(io.StringIO(to_csv(zoom_report))))
    assert rows and list(rows[0]) == list(CSV_FIELDS)
    assert len(rows) == sum(len(q.signals) for q in zoom_report.questions)


def test_report_changes_after_a_rerun_with_a_higher_threshold(zoom_report, rubric, thresholds):
    import dataclasses

    from analyzer.report import report_changes
    from analyzer.transcripts import read_transcript

    metric = next(s for q in zoom_report.questions for s in q.signals if s.signal == "metric")
    stricter = dataclasses.replace(thresholds, version="stricter", signals={**thresholds.signals, "metric": min(1.0, metric.score + 0.01)})
    from pathlib import Path

    again = analyze_transcript(read_transcript(Path(__file__).parent / "data" / "zoom.vtt"), rubric, stricter)
    changes = report_changes(zoom_report, again)
    assert changes["thresholds"]["new"] == "stricter"
    assert [f["signal"] for f in changes["flags_removed"]] == ["metric"] and not changes["flags_added"]
    assert report_changes(again, again)["flags_removed"] == []


def test_report_signal_times_run_from_the_first_word_start_to_the_last_word_end(data_dir):
    report = analyze_transcript(read_transcript(data_dir / "asr.json"))
    example = next(s for q in report.questions for s in q.signals if s.signal == "example")
    assert (example.start, example.end) == (3.5, 4.2)  # "for" starts at 3.5, "example" ends at 4.2
    assert example.low_confidence  # both words were heard with probability ~0.3


def test_report_words_without_times_take_times_inside_their_turn():
    from analyzer.records import Word

    words = tuple(Word(w, None if w in ("twenty", "percent") else 3.0 + i, None if w in ("twenty", "percent") else 3.5 + i)
                  for i, w in enumerate("we grew revenue by twenty percent".split()))
    t = Transcript(turns=(Turn("I", "What results did you get in sales last year?", 0.0, 3.0),
                          Turn("C", "we grew revenue by twenty percent", 3.0, 9.0, words)))
    metric = next(s for q in analyze_transcript(t, interviewer="I").questions for s in q.signals if s.signal == "metric")
    assert metric.start is not None and metric.end is not None and 3.0 <= metric.start <= metric.end <= 9.0
