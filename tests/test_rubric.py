from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from analyzer.errors import RubricError
from analyzer.rubric import ALL_SIGNALS, COMPETENCY_IDS, default_rubric_path, load_rubric

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_39e6f16006ab16f1.txt"


def test_rubric_has_the_ten_competencies_in_order(rubric):
    assert tuple(c.id for c in rubric.competencies) == COMPETENCY_IDS
    for comp in rubric.competencies:
        assert comp.name["ru"] and comp.name["en"]
        assert any(q.parent is None for q in comp.questions), comp.id


def test_rubric_every_question_has_ru_and_en_and_unique_id(rubric):
    ids = [q.id for q in rubric.questions]
    assert len(ids) == len(set(ids))
    for q in rubric.questions:
        assert q.text.get("ru") and q.text.get("en"), q.id


def test_rubric_guide_chains_are_follow_ups(rubric):
    silent = rubric.question("communication.silent_client")
    probes = [q for q in rubric.questions if q.parent == silent.id]
    assert probes and "persistence" in silent.signals
    assert any("что еще" in q.text["ru"].lower().replace("ё", "е") for q in probes)
    problem_chain = [q for q in rubric.questions if q.parent == "problem_solving.biggest_problem"]
    assert len(problem_chain) == 5  # the guide's six numbered questions: one bank + five probes
    manager = [q for q in rubric.questions if q.parent == "empathy.why_left"]
    assert any("позвоню твоему руководителю" in q.text["ru"] for q in manager)
    provocation = rubric.question("client_service.followups_provocation")
    assert "followup_attitude" in provocation.signals


@pytest.mark.skipif(not SEED.exists(), reason="the guide seed is not beside the checkout")
def test_rubric_russian_questions_come_from_the_guide(rubric):
    """Most question texts appear in the guide as written (a few typo fixes are documented in the YAML)."""
    guide = re.sub(r"\s+", " ", SEED.read_text(encoding="utf-8")).lower().replace("ё", "е")
    bank = [q for q in rubric.questions if q.parent is None]
    found = sum(1 for q in bank if q.text["ru"].lower().replace("ё", "е")[:25] in guide)
    assert found / len(bank) >= 0.85


def test_rubric_signal_directions_are_data(rubric):
    assert rubric.competency("explaining_simply").signals["jargon"] == "negative"
    assert rubric.competency("explaining_simply").signals["analogy"] == "positive"
    assert set(rubric.signals) == set(ALL_SIGNALS)


def _write(tmp_path, data) -> Path:
    p = tmp_path / "rubric.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def _minimal():
    return yaml.safe_load(default_rubric_path().read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("id"), "missing required field 'id'"),
        (lambda d: d["competencies"][0].pop("questions"), r"competencies\[0\] \(product_knowledge\).*missing required field 'questions'"),
        (lambda d: d["competencies"][1]["questions"][0].pop("text"), r"competencies\[1\] \(client_service\)\.questions\[0\].*'text'"),
        (lambda d: d["competencies"][2]["signals"].update({"charisma": "positive"}), "unknown signal 'charisma'"),
        (lambda d: d["competencies"][2]["signals"].update({"metric": "great"}), "expected one of positive"),
        (lambda d: d["competencies"][3]["questions"].append(dict(d["competencies"][3]["questions"][0])), "duplicate id"),
        (lambda d: d["signals"].pop("story"), "missing core signal 'story'"),
    ],
)
def test_rubric_invalid_file_names_the_place_and_reason(tmp_path, mutate, message):
    data = _minimal()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(RubricError, match=message) as info:
        load_rubric(path)
    assert str(path) in str(info.value)
    assert "line" in str(info.value) or "document" in str(info.value)


def test_rubric_broken_yaml_reports_the_line(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("id: x\nversion: 1\ncompetencies: [\n  - a: b\n", encoding="utf-8")
    with pytest.raises(RubricError, match=r"line \d+: invalid YAML"):
        load_rubric(p)


def test_rubric_missing_file(tmp_path):
    with pytest.raises(RubricError, match="no such file"):
        load_rubric(tmp_path / "nope.yaml")
