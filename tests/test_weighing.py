"""Answer-level weighing of rule evidence (analyzer/weighing.py, models/signal_weights.yaml)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from analyzer.errors import ThresholdsError
from analyzer.nlp import get_nlp
from analyzer.signals import detect_signals
from analyzer.weighing import SignalModel, SignalWeights, load_signal_weights, weigh_signals

ROOT = Path(__file__).resolve().parent.parent
STORY_EN = ("Last year a client went silent for a month. I called, I emailed, and I went to their office myself. "
            "In the end they renewed for another year.")


def test_weighing_rescores_only_the_weighed_signals_and_never_adds_a_flag(rules):
    doc = get_nlp("en")(STORY_EN)
    raw = detect_signals(doc, rules, "en", weights=False)
    always = SignalWeights(version="t", models={"story": SignalModel(intercept=5.0, coef={})})
    never = SignalWeights(version="t", models={"story": SignalModel(intercept=-5.0, coef={})})
    high, low = detect_signals(doc, rules, "en", weights=always), detect_signals(doc, rules, "en", weights=never)
    assert [(f.signal, f.rule_id, f.text) for f in high] == [(f.signal, f.rule_id, f.text) for f in raw]
    assert any(f.signal == "story" for f in raw)
    for before, a, b in zip(raw, high, low):
        if before.signal == "story":
            assert a.score > 0.99 and b.score < 0.01  # the answer's probability, whatever the rule said
        else:
            assert a.score == b.score == before.score
    # with no flag there is nothing to weigh: a model never invents evidence without a quote
    assert weigh_signals([], always) == []


def test_weighing_uses_which_rules_fired_together():
    model = SignalModel(intercept=-2.0, coef={"rule:a.v1": 1.0, "signal:story": 3.0})
    assert model.probability({"rule:a.v1": 1.0}) < 0.5 < model.probability({"rule:a.v1": 1.0, "signal:story": 1.0})


@pytest.mark.parametrize("lang,signal,text", [
    # one sentence shows a signal as well as ten: the weights must not lean on length or on
    # the context a longer answer brings
    ("ru", "ownership", "Я взяла на себя переговоры с клиентом и сама позвонила директору."),
    ("en", "ownership", "I took charge of the account and I called the CEO myself."),
    ("ru", "metric", "Выручка выросла на 30%."),
    ("en", "metric", "Revenue grew by 30% last year."),
    ("ru", "example", "Например, клиент из ритейла попросил скидку."),
    ("en", "example", "For example, a dental clinic asked us for a discount."),
])
def test_weighing_keeps_a_one_sentence_answer(rules, thresholds, lang, signal, text):
    flags = detect_signals(get_nlp(lang)(text), rules, lang)
    assert any(f.signal == signal and f.score >= thresholds.signal(signal) for f in flags)


def test_weighing_files_missing_or_broken(tmp_path):
    with pytest.raises(ThresholdsError, match="no such signal weights file"):
        load_signal_weights(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsignals:\n  story: {intercept: x}\n", encoding="utf-8")
    with pytest.raises(ThresholdsError, match="bad.yaml: not a signal weights file"):
        load_signal_weights(bad)


def test_committed_weights_were_fitted_on_the_current_dev_answers():
    # relabelling dev without re-running scripts/fit_signal_weights.py would leave stale weights
    weights = load_signal_weights()
    assert set(weights.models) == {"example", "ownership", "story", "metric"}
    folder = ROOT / weights.trained_on["folder"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.glob("answers_*.yaml")))).hexdigest()[:16]
    assert weights.trained_on["sha256"] == digest, "run: python scripts/fit_signal_weights.py"
    assert "heldout" not in weights.trained_on["folder"]
