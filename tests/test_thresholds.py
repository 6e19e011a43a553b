from __future__ import annotations

import pytest

from analyzer.errors import ThresholdsError
from analyzer.thresholds import load_thresholds, write_thresholds


def test_thresholds_default_file_loads_every_section(thresholds):
    assert thresholds.version and thresholds.sha256
    assert 0 < thresholds.matching.bank_min_similarity < 1
    assert thresholds.signal("analogy") == pytest.approx(0.5)


def test_thresholds_round_trip(tmp_path, thresholds):
    out = write_thresholds(thresholds, tmp_path / "t.yaml")
    again = load_thresholds(out)
    assert again.to_dict() == thresholds.to_dict()


@pytest.mark.parametrize(
    "text, message",
    [
        ("matching: {}\n", "missing required field 'version'"),
        ("version: x\nsignals: {charisma: 0.5}\n", "not a known signal"),
        ("version: x\nsignals: {example: 2}\n", "in 0..1"),
        ("version: x\nmatching: {bank_min: 0.3}\n", "not a known threshold"),
        ("version: x\nlevels: {some_min_score: high}\n", "must be a number"),
    ],
)
def test_thresholds_invalid_file_is_one_line(tmp_path, text, message):
    p = tmp_path / "t.yaml"
    p.write_text(text)
    with pytest.raises(ThresholdsError, match=message) as info:
        load_thresholds(p)
    assert str(p) in str(info.value)
