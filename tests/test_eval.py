"""Quality floors: a little under what the analyzer reaches, so a regression fails CI.

Figures are from `interview-analyzer eval sample_data/dev` and `... sample_data/heldout`
(the held-out set is never tuned on; its floors guard against regressions only).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.evaluate import evaluate_folder

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"

FLOORS = {
    # reached (with ho3_*; signal weights are in-sample here): bank 0.935, off-script 0.937,
    # follow-ups 0.811, macro F1 ru 0.825 / en 0.810
    "dev": {"bank": 0.91, "offscript": 0.91, "followup": 0.78, "macro_f1": {"ru": 0.80, "en": 0.78}},
    # reached (fresh set from four new writers, measured once, untuned): bank 0.894, off-script 0.886,
    # follow-ups 0.643, macro F1 ru 0.827 / en 0.734
    "heldout": {"bank": 0.86, "offscript": 0.85, "followup": 0.61, "macro_f1": {"ru": 0.80, "en": 0.71}},
}


@pytest.fixture(scope="module", params=sorted(FLOORS))
def result(request):
    overall, _ = evaluate_folder(SAMPLE / request.param)
    return request.param, overall


def test_eval_segmentation_floors(result):
    name, r = result
    floors = FLOORS[name]
    assert r.bank.value >= floors["bank"]
    assert r.offscript.value >= floors["offscript"]
    assert r.followup.value >= floors["followup"]
    assert r.roles.value == 1.0


def test_eval_signal_floors(result):
    name, r = result
    for lang, floor in FLOORS[name]["macro_f1"].items():
        assert r.macro_f1(lang) >= floor, lang


def test_eval_counts_every_labelled_answer(result):
    name, r = result
    assert r.answers >= 150
