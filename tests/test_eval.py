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
    # reached: bank 0.960, off-script 1.000, follow-ups 0.863, macro F1 ru 0.790 / en 0.787
    "dev": {"bank": 0.93, "offscript": 0.95, "followup": 0.82, "macro_f1": {"ru": 0.76, "en": 0.75}},
    # reached: bank 0.833, off-script 0.667, follow-ups 0.643, macro F1 ru 0.767 / en 0.705
    "heldout": {"bank": 0.78, "offscript": 0.6, "followup": 0.58, "macro_f1": {"ru": 0.72, "en": 0.66}},
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
