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
    # reached (with ho4_*; the signal weights and the topic classifier are in-sample here): bank 0.983,
    # off-script 0.989, follow-ups 0.901, macro F1 ru 0.834 / en 0.803
    "dev": {"bank": 0.95, "offscript": 0.96, "followup": 0.87, "roles": 1.0, "macro_f1": {"ru": 0.81, "en": 0.78}},
    # reached (fresh set from four new writers, measured once, untuned): bank 0.874, off-script 0.842,
    # follow-ups 0.663, roles 7/8 (a panel of two interviewers taking turns), macro F1 ru 0.756 / en 0.739
    "heldout": {"bank": 0.85, "offscript": 0.81, "followup": 0.63, "roles": 0.875, "macro_f1": {"ru": 0.73, "en": 0.71}},
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
    assert r.roles.value >= floors["roles"]


def test_eval_signal_floors(result):
    name, r = result
    for lang, floor in FLOORS[name]["macro_f1"].items():
        assert r.macro_f1(lang) >= floor, lang


def test_eval_counts_every_labelled_answer(result):
    name, r = result
    assert r.answers >= 150
