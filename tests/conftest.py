"""Shared fixtures: data paths and a CLI runner that never swallows tracebacks silently."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SAMPLE = ROOT / "sample_data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def rubric():
    from analyzer.rubric import load_rubric

    return load_rubric()


@pytest.fixture(scope="session")
def thresholds():
    from analyzer.thresholds import load_thresholds

    return load_thresholds()


@pytest.fixture(scope="session")
def rules():
    from analyzer.signals import load_rules

    return load_rules()
