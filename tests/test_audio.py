"""Decoding and validation of recordings (analyzer.audio).

Every bad input of FAILURE-MODES.md ("Decoding recordings") is generated here
and must give a one-line AudioError that names the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analyzer.audio import DecodedAudio, detect_channel_relation, load_audio, mixdown
from analyzer.errors import AudioError
from audio_fixtures import REAL_AUDIO, encode, make_video, voice_like, write_wav


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("media")
    x = voice_like(3.0)
    write_wav(d / "good.wav", x)
    for suffix in ("mp3", "ogg", "m4a", "flac", "webm", "opus"):
        encode(d / f"good.{suffix}", x)
    write_wav(d / "phone_8k_stereo.wav",
              np.stack([voice_like(3.0, 8000, 120, 1), voice_like(3.0, 8000, 220, 2)]), 8000)
    encode(d / "studio_48k.flac", voice_like(3.0, 48000), 48000)
    make_video(d / "with_sound.mp4", 3.0, audio=x)
    make_video(d / "with_sound.mkv", 3.0, audio=x)
    return d


@pytest.mark.parametrize("name", [
    "good.wav", "good.mp3", "good.ogg", "good.m4a", "good.flac", "good.webm", "good.opus",
    "phone_8k_stereo.wav", "studio_48k.flac", "with_sound.mp4", "with_sound.mkv",
])
def test_audio_decodes_supported_formats(media, name):
    audio = load_audio(media / name)
    assert isinstance(audio, DecodedAudio)
    assert audio.sampling_rate == 16000
    assert audio.samples.dtype == np.float32
    assert audio.samples.shape == (audio.channels, audio.samples.shape[1])
    assert audio.duration_s == pytest.approx(3.0, abs=0.15)
    assert audio.samples.shape[1] == pytest.approx(audio.duration_s * 16000, abs=2)
    assert audio.source == str(media / name)


@pytest.mark.parametrize("keep_channels, channels", [(True, 2), (False, 1)])
def test_audio_keeps_two_different_channels(media, keep_channels, channels):
    audio = load_audio(media / "phone_8k_stereo.wav", keep_channels=keep_channels)
    assert audio.channels == channels
    assert audio.source_channels == 2
    assert audio.source_rate_hz == 8000


@pytest.mark.parametrize("flip", [False])
def test_audio_identical_channels_become_one(tmp_path, flip):
    x = voice_like(2.0)
    audio = load_audio(write_wav(tmp_path / "dual_mono.wav", np.stack([x, x])))
    assert audio.channels == 1  # never split a mono recording into two "speakers"
    assert audio.notes == ()


@pytest.mark.parametrize("keep_channels", [True, False])
def test_audio_anti_phase_stereo_falls_back_to_one_channel(tmp_path, keep_channels):
    x = voice_like(2.0)
    path = write_wav(tmp_path / "anti_phase.wav", np.stack([x, -x]))
    audio = load_audio(path, keep_channels=keep_channels)
    assert audio.channels == 1
    assert np.sqrt(np.mean(audio.samples ** 2)) > 0.05  # not the cancelled zeros
    assert any("anti-phase" in note for note in audio.notes)


@pytest.mark.parametrize("relation, make", [
    ("mono", lambda x: x[np.newaxis, :]),
    ("duplicate", lambda x: np.stack([x, x])),
    ("anti_phase", lambda x: np.stack([x, -x])),
    ("one_empty", lambda x: np.stack([x, np.zeros_like(x)])),
    ("separate", lambda x: np.stack([x, voice_like(x.size / 16000, f0_hz=230, seed=5)])),
])
def test_audio_detects_channel_relation(relation, make):
    assert detect_channel_relation(make(voice_like(2.0))) == relation


@pytest.mark.parametrize("case", ["anti_phase", "separate"])
def test_audio_mixdown_never_cancels(case):
    x = voice_like(2.0)
    other = -x if case == "anti_phase" else voice_like(2.0, f0_hz=230, seed=3)
    mixed = mixdown(np.stack([x, other]))
    assert mixed.shape == x.shape
    assert np.sqrt(np.mean(mixed ** 2)) > 0.3 * np.sqrt(np.mean(x ** 2))


def _bad_inputs(d: Path) -> dict[str, tuple[Path, str]]:
    """name → (file, a word the message must contain)."""
    x = voice_like(3.0)
    cases: dict[str, tuple[Path, str]] = {}
    (d / "empty.wav").write_bytes(b"")
    cases["empty"] = (d / "empty.wav", "empty")
    cases["missing"] = (d / "missing.wav", "not found")
    (d / "folder.wav").mkdir()
    cases["folder"] = (d / "folder.wav", "folder")
    good = write_wav(d / "source.wav", x).read_bytes()
    (d / "header_only.wav").write_bytes(good[:30])
    cases["truncated header"] = (d / "header_only.wav", "not a readable")
    (d / "random.mp3").write_bytes(np.random.default_rng(0).bytes(5000))
    cases["random bytes named .mp3"] = (d / "random.mp3", "not a readable")
    (d / "notes.wav").write_text("this is a text file, not audio\n" * 20)
    cases["text named .wav"] = (d / "notes.wav", "not a readable")
    cases["0.5 s"] = (write_wav(d / "short.wav", voice_like(0.5)), "long")
    cases["silence"] = (write_wav(d / "silence.wav", np.zeros(3 * 16000)), "no speech")
    cases["video without audio"] = (make_video(d / "no_sound.mp4", 2.0), "without an audio track")
    mp3 = encode(d / "full.mp3", x).read_bytes()
    (d / "cut.mp3").write_bytes(mp3[: len(mp3) // 3])
    cases["truncated mp3: header says longer"] = (d / "cut.mp3", "header")
    webm = encode(d / "full.webm", x).read_bytes()
    (d / "cut.webm").write_bytes(webm[: len(webm) // 3])
    cases["truncated webm: header says longer"] = (d / "cut.webm", "header")
    corrupt = bytearray(mp3)
    rng = np.random.default_rng(1)
    for i in rng.integers(500, len(corrupt), 200):
        corrupt[i] = int(rng.integers(0, 255))
    (d / "corrupt.mp3").write_bytes(bytes(corrupt))
    cases["corrupt mp3"] = (d / "corrupt.mp3", "corrupt")
    cases["below 8 kHz"] = (write_wav(d / "low_rate.wav", voice_like(3.0, 6000), 6000), "8000 Hz")
    return cases


_BAD = ["empty", "missing", "folder", "truncated header", "random bytes named .mp3",
        "text named .wav", "0.5 s", "silence", "video without audio",
        "truncated mp3: header says longer", "truncated webm: header says longer", "corrupt mp3",
        "below 8 kHz"]


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    return _bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("case", _BAD)
def test_audio_rejects_bad_input_with_one_line_naming_the_file(bad_inputs, case):
    path, word = bad_inputs[case]
    with pytest.raises(AudioError) as info:
        load_audio(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert word in message


@pytest.mark.parametrize("limit_s", [2.0])
def test_audio_rejects_recording_over_the_limit(media, limit_s):
    with pytest.raises(AudioError, match="over the limit|longer than the limit"):
        load_audio(media / "good.flac", max_duration_s=limit_s)


@pytest.mark.parametrize("name", ["jfk.flac", "stereo_diarization.wav", "hotwords.mp3"])
def test_audio_decodes_real_speech_samples(name):
    path = REAL_AUDIO / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    audio = load_audio(path)
    assert audio.duration_s == pytest.approx(audio.header_duration_s, abs=0.1)
    # jfk.flac is stereo with the same signal twice; stereo_diarization has one speaker per channel.
    assert audio.channels == (2 if name == "stereo_diarization.wav" else 1)
