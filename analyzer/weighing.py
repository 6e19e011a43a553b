"""Weigh the rule evidence of one answer into one probability per signal.

A rule fires on a phrase; whether the answer as a whole shows a signal depends on
which rules fired together (a past-tense narrative plus «я сама позвонила» is a
story more surely than either alone, a number next to "grew" is an outcome more
surely than a number alone). For the signals listed in
``models/signal_weights.yaml`` a logistic model turns the rule scores of an answer
into the probability that the answer shows the signal; that probability becomes
the score of each of the signal's flags and is compared with the signal's
threshold in ``models/thresholds.yaml`` as before. The flags, their rule ids and
quotes stay: the model only re-scores evidence the rules found, it never adds a
flag without a quote.

The weights are data, fitted on the labelled answers of ``sample_data/dev`` by
``scripts/fit_signal_weights.py``, which also reports leave-one-writer-out figures.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .errors import ThresholdsError
from .records import Signal
from .rubric import QUESTION_SPECIFIC, load_yaml

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "models" / "signal_weights.yaml"


@dataclass(frozen=True)
class SignalModel:
    intercept: float
    coef: dict[str, float]

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(w * features.get(name, 0.0) for name, w in self.coef.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class SignalWeights:
    version: str
    models: dict[str, SignalModel] = field(default_factory=dict)
    trained_on: dict = field(default_factory=dict)


def answer_features(flags: Iterable[Signal]) -> dict[str, float]:
    """What the model sees of an answer: the best score of each rule and of each
    signal among its flags, before any threshold.

    Length and language are left out on purpose: "I took charge and called the CEO
    myself" shows ownership in one sentence as much as in ten. So are the
    question-specific signals: the pipeline reads them only on their question, so
    an answer elsewhere must not look different to the model than in training.
    """
    features: dict[str, float] = {}
    for flag in flags:
        if flag.signal in QUESTION_SPECIFIC:
            continue
        for name in (f"rule:{flag.rule_id}", f"signal:{flag.signal}"):
            features[name] = max(features.get(name, 0.0), float(flag.score))
    return features


def weigh_signals(flags: list[Signal], weights: SignalWeights | None = None) -> list[Signal]:
    """The flags of one answer, with the answer's probability as the score of each
    flag of a weighed signal (other flags unchanged)."""
    weights = weights if weights is not None else load_signal_weights()
    if not weights.models or not flags:
        return flags
    features = answer_features(flags)
    # three decimals, as rule scores: calibration picks thresholds among these values
    probability = {s: round(m.probability(features), 3) for s, m in weights.models.items()}
    return [dataclasses.replace(f, score=probability[f.signal]) if f.signal in probability else f for f in flags]


def parse_signal_weights(data: object, source: Path | str) -> SignalWeights:
    try:
        models = {
            str(signal): SignalModel(intercept=float(spec["intercept"]), coef={str(k): float(v) for k, v in spec["coef"].items()})
            for signal, spec in (data.get("signals") or {}).items()
        }
        return SignalWeights(version=str(data["version"]), models=models, trained_on=dict(data.get("trained_on") or {}))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ThresholdsError(f"not a signal weights file ({exc})", source) from None


@lru_cache(maxsize=8)
def _load(path: Path) -> SignalWeights:
    return parse_signal_weights(load_yaml(path, ThresholdsError), path)


def load_signal_weights(path: str | Path | None = None) -> SignalWeights:
    """Load ``models/signal_weights.yaml``; without it (installed without the
    repository) the rule scores are used as they are."""
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    if not path.exists():
        if path == DEFAULT_WEIGHTS:
            return SignalWeights(version="none")
        raise ThresholdsError("no such signal weights file", path)
    return _load(path)
