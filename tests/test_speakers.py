"""Speaker attribution (analyzer.speakers): by channel and by voice.

Attribution accuracy is measured on synthetic two-voice mono made here with
espeak-ng: the share of speech time whose speaker label is right.
"""

from __future__ import annotations

import json
import numbers

import numpy as np
import pytest

from analyzer.records import Word
from analyzer.resources import offline_model_path
from analyzer.speakers import (
    SpeakerOptions,
    attribute_channel_words,
    detect_channel_speakers,
    diarize_words,
    isolate_channels,
    mfcc_frames,
    split_pieces,
    words_to_turns,
)
from audio_fixtures import has_espeak, speaker_time_accuracy, synth_dialogue, voice_like

SR = 16000

DIALOGUE = [
    ("SPEAKER_00", "Good morning. Could you tell me about your current role?"),
    ("SPEAKER_01", "I manage twelve key accounts in retail. "
                   "I plan renewals and I run quarterly reviews with each client."),
    ("SPEAKER_00", "What do you do when a client stops answering your emails?"),
    ("SPEAKER_01", "I call them first. Then I write to another contact, and I ask my manager to reach their director."),
    ("SPEAKER_00", "How do you decide which client comes first?"),
    ("SPEAKER_01", "I look at revenue and at risk. A large client with an open complaint always comes first."),
    ("SPEAKER_00", "Tell me about a mistake you made."),
    ("SPEAKER_01", "I once promised a delivery date without checking with the warehouse. "
                   "We were late by a week, so now I always check first."),
    ("SPEAKER_00", "Why do you want to join us?"),
    ("SPEAKER_01", "Your clients are bigger, and I want to learn how to run long negotiations."),
]

VOICE_PAIRS = {
    "male and female": ({"voice": "en-us+m3", "pitch": 35, "speed_wpm": 170},
                        {"voice": "en-gb+f3", "pitch": 70, "speed_wpm": 160}),
    "two male voices": ({"voice": "en-us+m3", "pitch": 35, "speed_wpm": 170},
                        {"voice": "en-us+m1", "pitch": 45, "speed_wpm": 170}),
}


def spread_words(truth) -> list[Word]:
    """Words with times spread evenly over each true turn (no model needed)."""
    words = []
    for turn in truth:
        tokens = turn.text.split()
        step = (turn.end - turn.start) / len(tokens)
        words += [Word(t, round(turn.start + i * step, 3), round(turn.start + (i + 1) * step, 3), 0.9)
                  for i, t in enumerate(tokens)]
    return words


@pytest.fixture(scope="module", params=list(VOICE_PAIRS))
def dialogue(request, tmp_path_factory):
    if not has_espeak():
        pytest.skip("espeak-ng is not installed")
    a, b = VOICE_PAIRS[request.param]
    mono, truth = synth_dialogue(tmp_path_factory.mktemp("dialogue"), DIALOGUE,
                                 voices={"SPEAKER_00": a, "SPEAKER_01": b})
    return request.param, mono, truth


MIN_ACCURACY = {"male and female": 0.95, "two male voices": 0.85}


def test_speakers_acoustic_attribution_accuracy_on_synthetic_voices(dialogue):
    name, mono, truth = dialogue
    words = spread_words(truth)
    attribution = diarize_words(mono, SR, words)
    assert attribution.method == "acoustic"
    turns = words_to_turns(words, attribution.labels, attribution.confidences)
    accuracy = speaker_time_accuracy(truth, turns)
    print(f"\nattribution accuracy ({name}, true word spans): {accuracy:.3f}")
    assert accuracy >= MIN_ACCURACY[name]
    assert turns[0].speaker == "SPEAKER_00"  # who speaks first is SPEAKER_00
    assert all(0.5 <= c <= 1.0 for c in attribution.confidences)


@pytest.mark.slow
def test_speakers_acoustic_attribution_accuracy_with_model_words(dialogue):
    if offline_model_path() is None:
        pytest.skip("tiny.en is not installed")
    from analyzer.resources import load_whisper
    from analyzer.transcribe import TranscribeOptions, filter_segments, segment_words

    name, mono, truth = dialogue
    options = TranscribeOptions()
    segments, _ = load_whisper(device="cpu").transcribe(
        mono, language="en", word_timestamps=True, vad_filter=True,
        vad_parameters=options.vad_options(), condition_on_previous_text=False)
    kept, _ = filter_segments(segments, options)
    words = [w for s in kept for w in segment_words(s)]
    attribution = diarize_words(mono, SR, words)
    accuracy = speaker_time_accuracy(truth, words_to_turns(words, attribution.labels, attribution.confidences))
    print(f"\nattribution accuracy ({name}, tiny.en word times): {accuracy:.3f}")
    assert accuracy >= MIN_ACCURACY[name] - 0.05


@pytest.mark.parametrize("n_words", [3])
def test_speakers_too_little_speech_is_one_speaker(n_words):
    x = voice_like(3.0)
    words = [Word(f"w{i}.", i * 0.9, i * 0.9 + 0.6) for i in range(n_words)]
    attribution = diarize_words(x, SR, words)
    assert attribution.method == "single" and set(attribution.labels) == {"SPEAKER_00"}


def test_speakers_keep_no_voiceprint(dialogue):
    _, mono, truth = dialogue
    attribution = diarize_words(mono, SR, spread_words(truth))
    # Only a few plain figures leave the function: nothing that describes a voice.
    assert all(isinstance(v, numbers.Number) for v in attribution.details.values())
    json.dumps(attribution.details)


# --- channels -----------------------------------------------------------------------------------


def _two_party(bleed_db: float = -30.0, seconds: float = 8.0) -> np.ndarray:
    """Speaker A on the left for 0–4 s, speaker B on the right for 4–8 s, with crosstalk."""
    n = int(seconds * SR)
    half = n // 2
    a = np.zeros(n, np.float32)
    b = np.zeros(n, np.float32)
    a[:half] = voice_like(seconds / 2, f0_hz=120, seed=1)
    b[half:] = voice_like(seconds / 2, f0_hz=220, seed=2)
    bleed = 10 ** (bleed_db / 20)
    noise = 1e-3 * np.random.default_rng(0).standard_normal((2, n)).astype(np.float32)
    return np.stack([a + bleed * b, b + bleed * a]) + noise


@pytest.mark.parametrize("bleed_db", [-40.0, -20.0])
def test_speakers_detects_one_speaker_per_channel(bleed_db):
    assert detect_channel_speakers(_two_party(bleed_db), SR)


@pytest.mark.parametrize("layout", ["room stereo", "mono", "one channel only"])
def test_speakers_other_layouts_are_not_channel_separated(layout):
    stereo = _two_party(-30.0)
    if layout == "room stereo":  # both mics hear both voices at similar levels
        mix = stereo.sum(axis=0)
        samples = np.stack([mix, 0.8 * mix])
    elif layout == "mono":
        samples = stereo.sum(axis=0, keepdims=True)
    else:
        samples = np.stack([stereo.sum(axis=0), 1e-3 * np.random.default_rng(1).standard_normal(stereo.shape[1])])
    assert not detect_channel_speakers(samples.astype(np.float32), SR)


@pytest.mark.parametrize("bleed_db", [-30.0])
def test_speakers_isolate_channels_quiets_crosstalk_only(bleed_db):
    stereo = _two_party(bleed_db)
    isolated = isolate_channels(stereo, SR)
    half = stereo.shape[1] // 2

    def db(x):
        return 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)

    # left channel: own speech kept, the other's crosstalk pushed far down
    assert db(isolated[0, : half - SR]) == pytest.approx(db(stereo[0, : half - SR]), abs=0.1)
    assert db(isolated[0, half + SR:]) < db(stereo[0, half + SR:]) - 30


def test_speakers_channel_words_drop_crosstalk_and_keep_overlap():
    stereo = _two_party(-30.0)
    left = [Word("Hello", 0.5, 0.9), Word("there.", 0.9, 1.3),
            Word("sure", 5.0, 5.4)]  # crosstalk of the right speaker, recognised in the left channel
    right = [Word("Sure", 5.0, 5.4), Word("thing.", 5.4, 5.9)]
    words, attribution, dropped = attribute_channel_words([left, right], stereo, SR)
    assert [w.text for w in words] == ["Hello", "there.", "Sure", "thing."]
    assert attribution.labels == ("SPEAKER_00", "SPEAKER_00", "SPEAKER_01", "SPEAKER_01")
    assert [(d["text"], d["reason"]) for d in dropped] == [("sure", "crosstalk")]
    turns = words_to_turns(words, attribution.labels, attribution.confidences)
    assert [(t.speaker, t.text, t.confidence) for t in turns] == [
        ("SPEAKER_00", "Hello there.", 1.0), ("SPEAKER_01", "Sure thing.", 1.0)]


def test_speakers_overlapping_channels_give_two_whole_turns():
    stereo = np.stack([voice_like(4.0, f0_hz=120, seed=1), voice_like(4.0, f0_hz=220, seed=2)])
    left = [Word(t, 0.1 + 0.4 * i, 0.5 + 0.4 * i) for i, t in enumerate("he began a complaint".split())]
    right = [Word(t, 0.3 + 0.4 * i, 0.7 + 0.4 * i) for i, t in enumerate("the horizon seems".split())]
    words, attribution, _ = attribute_channel_words([left, right], stereo, SR)
    turns = words_to_turns(words, attribution.labels, attribution.confidences)
    assert [(t.speaker, t.text) for t in turns] == [
        ("SPEAKER_00", "he began a complaint"), ("SPEAKER_01", "the horizon seems")]


# --- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [1.0, 2.5])
def test_speakers_mfcc_frames_every_10_ms(seconds):
    mfcc, energy = mfcc_frames(voice_like(seconds), SR)
    assert mfcc.shape == (energy.shape[0], 20)
    assert energy.shape[0] == pytest.approx(seconds * 100, abs=3)
    assert np.isfinite(mfcc).all()


def test_speakers_pieces_split_at_pauses_sentences_and_length():
    words = [Word("So", 0.0, 0.2), Word("yes.", 0.2, 0.5),        # sentence end
             Word("Then", 0.6, 0.8), Word("we", 0.8, 1.0),
             Word("moved", 1.5, 1.8),                              # 0.5 s pause
             *[Word("on", 2.1 + 0.3 * i, 2.4 + 0.3 * i) for i in range(10)]]  # 3 s without a pause
    pieces = split_pieces(words, SpeakerOptions(piece_max_s=2.0))
    assert [p[0] for p in pieces][:3] == [[0, 1], [2, 3], [4]]
    assert all(end - start <= 2.0 + 1e-9 for _, start, end in pieces)


def test_speakers_turn_confidence_is_duration_weighted():
    words = [Word("a", 0.0, 1.0), Word("b", 1.0, 1.1), Word("c", 2.0, 2.5)]
    turns = words_to_turns(words, ["SPEAKER_01", "SPEAKER_01", "SPEAKER_00"], [1.0, 0.5, 0.8])
    assert [(t.speaker, t.text, t.start, t.end) for t in turns] == [
        ("SPEAKER_01", "a b", 0.0, 1.1), ("SPEAKER_00", "c", 2.0, 2.5)]
    assert turns[0].confidence == pytest.approx((1.0 * 1.0 + 0.5 * 0.1) / 1.1, abs=1e-3)


@pytest.mark.parametrize("setting", ["unset", "folder without config"])
def test_speakers_pyannote_is_never_required(tmp_path, monkeypatch, setting):
    from analyzer.speakers import ENV_PYANNOTE, pyannote_pipeline_path

    if setting == "unset":
        monkeypatch.delenv(ENV_PYANNOTE, raising=False)
    else:
        monkeypatch.setenv(ENV_PYANNOTE, str(tmp_path))
    assert pyannote_pipeline_path() is None
