"""Thresholds: fitted values kept in ``models/thresholds.yaml``, never constants in code."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ThresholdsError
from .rubric import ALL_SIGNALS, load_yaml

DEFAULT_THRESHOLDS = Path(__file__).resolve().parent.parent / "models" / "thresholds.yaml"


@dataclass(frozen=True)
class MatchingThresholds:
    """Cut-offs of question matching; similarities are cosine values in 0..1."""

    bank_min_similarity: float = 0.26
    followup_min_similarity: float = 0.25
    followup_max_words: int = 16
    new_question_min_similarity: float = 0.47
    # the topic classifier (models/question_turns.yaml): a turn it gives to another
    # competency with this probability opens that competency's question (a probe
    # matched by wording needs the reassign one); a weak match of another question
    # that it reads as a probe with the followup one stays in the open topic; one
    # it calls small talk with the offscript one is off-script unless the bank
    # matched it well
    topic_new_min_probability: float = 0.7
    topic_reassign_min_probability: float = 0.8
    topic_followup_min_probability: float = 0.7
    topic_offscript_min_probability: float = 0.6


@dataclass(frozen=True)
class LevelThresholds:
    """Competency levels from the signals found in its answers."""

    insufficient_max_words: int = 15
    some_min_score: float = 1
    strong_min_score: float = 3


@dataclass(frozen=True)
class ConfidenceThresholds:
    low_word_probability: float = 0.5
    low_attribution: float = 0.6


@dataclass(frozen=True)
class Thresholds:
    version: str
    matching: MatchingThresholds = field(default_factory=MatchingThresholds)
    signals: dict[str, float] = field(default_factory=dict)
    levels: LevelThresholds = field(default_factory=LevelThresholds)
    confidence: ConfidenceThresholds = field(default_factory=ConfidenceThresholds)
    created: str | None = None
    tuned_on: dict[str, Any] | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    sha256: str | None = None

    def signal(self, signal_id: str) -> float:
        return float(self.signals.get(signal_id, 0.5))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created": self.created,
            "tuned_on": self.tuned_on,
            "figures": self.figures,
            "matching": self.matching.__dict__.copy(),
            "signals": dict(self.signals),
            "levels": self.levels.__dict__.copy(),
            "confidence": self.confidence.__dict__.copy(),
        }


def _section(cls: type, data: Any, name: str, path: Path):
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ThresholdsError(f"'{name}' must be a mapping", path)
    known = set(cls.__dataclass_fields__)
    for key, value in data.items():
        if key not in known:
            raise ThresholdsError(f"'{name}.{key}' is not a known threshold; known: {', '.join(sorted(known))}", path)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ThresholdsError(f"'{name}.{key}' must be a number, got {value!r}", path)
    return cls(**data)


def parse_thresholds(data: Any, path: Path) -> Thresholds:
    if not isinstance(data, dict):
        raise ThresholdsError("must be a YAML mapping", path)
    if not data.get("version"):
        raise ThresholdsError("missing required field 'version'", path)
    signals = data.get("signals") or {}
    if not isinstance(signals, dict):
        raise ThresholdsError("'signals' must map signal id → minimum score", path)
    for sid, value in signals.items():
        if sid not in ALL_SIGNALS:
            raise ThresholdsError(f"'signals.{sid}' is not a known signal", path)
        if not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ThresholdsError(f"'signals.{sid}' must be a number in 0..1, got {value!r}", path)
    return Thresholds(
        version=str(data["version"]),
        matching=_section(MatchingThresholds, data.get("matching"), "matching", path),
        signals={k: float(v) for k, v in signals.items()},
        levels=_section(LevelThresholds, data.get("levels"), "levels", path),
        confidence=_section(ConfidenceThresholds, data.get("confidence"), "confidence", path),
        created=str(data["created"]) if data.get("created") else None,
        tuned_on=data.get("tuned_on"),
        figures=dict(data.get("figures") or {}),
        path=str(path),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """Load ``models/thresholds.yaml`` (or another thresholds file).

    Raises:
        ThresholdsError: naming the file and the bad field.
    """
    path = Path(path) if path is not None else DEFAULT_THRESHOLDS
    if path is DEFAULT_THRESHOLDS and not path.exists():
        # Installed without the repository: the defaults of the dataclasses.
        return Thresholds(version="builtin-defaults")
    return parse_thresholds(load_yaml(path, ThresholdsError), path)


def write_thresholds(thresholds: Thresholds, path: str | Path) -> Path:
    """Write thresholds atomically, so a crash never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    header = "# Thresholds of the analyzer, written by calibration. See analyzer/calibrate.py.\n"
    tmp.write_text(header + yaml.safe_dump(thresholds.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path
