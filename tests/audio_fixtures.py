"""Make recordings for the audio tests: good, bad and synthetic two-voice speech.

Plain functions (no pytest fixtures) so the benchmark and the sample-data script
can use them too. Everything is generated in a temporary folder; nothing here
downloads anything.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: Real speech samples shared by the project (see ../shared/real-audio/README.md).
REAL_AUDIO = REPO.parent / "shared" / "real-audio"
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
STEREO_LEFT_TEXT = (
    "He began a confused complaint against the wizard, "
    "who had vanished behind the curtain on the left."
)
STEREO_RIGHT_TEXT = "The horizon seems extremely distant."


def voice_like(duration_s: float, sr: int = 16000, f0_hz: float = 140.0, seed: int = 0) -> np.ndarray:
    """A harmonic tone with syllable-rate loudness changes (not speech, but not silence)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * sr)) / sr
    pitch = f0_hz * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    tone = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    x = 0.2 * tone * envelope + 0.003 * rng.standard_normal(t.size)
    return x.astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, sr: int = 16000) -> Path:
    """Write 16-bit PCM wav; ``samples`` shaped ``(n,)`` or ``(channels, n)``."""
    samples = np.atleast_2d(samples)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").T.copy()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[0])
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return path


def encode(path: Path, samples: np.ndarray, sr: int = 16000, codec: str | None = None,
           bit_rate: int | None = None, out_rate: int | None = None) -> Path:
    """Encode ``samples`` with PyAV into the container named by ``path``'s suffix."""
    import av

    samples = np.atleast_2d(samples).astype(np.float32)
    channels = samples.shape[0]
    suffix = path.suffix.lower()
    codec = codec or {".mp3": "libmp3lame", ".ogg": "libopus", ".opus": "libopus",
                      ".m4a": "aac", ".aac": "aac", ".flac": "flac", ".webm": "libopus",
                      ".mka": "flac", ".mkv": "libopus", ".mp4": "aac", ".wav": "pcm_s16le"}[suffix]
    rate = out_rate or (48000 if codec == "libopus" else sr)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout="mono" if channels == 1 else "stereo")
        if bit_rate:
            stream.bit_rate = bit_rate
        _write_audio(out, stream, samples, sr, rate)
    return path


def _write_audio(out, stream, samples: np.ndarray, sr: int, rate: int) -> None:
    import av

    layout = "mono" if samples.shape[0] == 1 else "stereo"
    resampler = av.audio.resampler.AudioResampler(
        format=stream.codec_context.format.name, layout=layout, rate=rate)
    step = 1024 * 8
    for i in range(0, samples.shape[1], step):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples[:, i: i + step]), format="fltp", layout=layout)
        frame.sample_rate = sr
        for rf in resampler.resample(frame):
            for packet in stream.encode(rf):
                out.mux(packet)
    for rf in resampler.resample(None):
        for packet in stream.encode(rf):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def make_video(path: Path, duration_s: float = 2.0, audio: np.ndarray | None = None,
               sr: int = 16000) -> Path:
    """An mp4/mkv with a small video track and, if given, an audio track."""
    import av

    fps = 10
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.time_base = Fraction(1, fps)
        astream = None
        if audio is not None:
            astream = out.add_stream("aac", rate=sr, layout="mono")
        for i in range(int(duration_s * fps)):
            img = np.full((48, 64, 3), (i * 9) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if astream is not None:
            _write_audio(out, astream, np.atleast_2d(audio).astype(np.float32), sr, sr)
    return path


# --- synthetic speech -----------------------------------------------------------------

def has_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak(text: str, path: Path, voice: str = "en-us", speed_wpm: int = 160,
           pitch: int = 50) -> Path:
    """Speak ``text`` into a wav with espeak-ng."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed_wpm), "-p", str(pitch),
                    "-w", str(path), text], check=True, capture_output=True)
    return path


def read_wav_mono(path: Path, sr: int = 16000) -> np.ndarray:
    """Decode any file to mono float32 at ``sr`` (PyAV via faster-whisper's helper)."""
    from faster_whisper.audio import decode_audio

    return decode_audio(str(path), sampling_rate=sr)


@dataclass(frozen=True)
class SpokenTurn:
    speaker: str
    text: str
    start: float
    end: float


#: Two clearly different espeak-ng voices: a low en-us male and a high en-gb female variant.
VOICES = {
    "SPEAKER_00": {"voice": "en-us+m3", "pitch": 35, "speed_wpm": 165},
    "SPEAKER_01": {"voice": "en-gb+f3", "pitch": 70, "speed_wpm": 155},
}


def synth_dialogue(workdir: Path, turns: list[tuple[str, str]], sr: int = 16000,
                   gap_s: float = 0.6, voices: dict | None = None) -> tuple[np.ndarray, list[SpokenTurn]]:
    """Render ``[(speaker, text), ...]`` with espeak-ng into one mono track.

    Returns:
        The mono float32 track and the true turns with their times.
    """
    voices = voices or VOICES
    pieces, truth, t = [np.zeros(int(0.5 * sr), np.float32)], [], 0.5
    for i, (speaker, text) in enumerate(turns):
        wav = espeak(text, workdir / f"turn_{i:03d}.wav", **voices[speaker])
        x = read_wav_mono(wav, sr)
        x = _trim(x, sr)
        truth.append(SpokenTurn(speaker, text, round(t, 3), round(t + x.size / sr, 3)))
        pieces += [x, np.zeros(int(gap_s * sr), np.float32)]
        t += x.size / sr + gap_s
    return np.concatenate(pieces), truth


def _trim(x: np.ndarray, sr: int, level: float = 1e-3) -> np.ndarray:
    idx = np.flatnonzero(np.abs(x) > level)
    if idx.size == 0:
        return x
    pad = int(0.05 * sr)
    return x[max(0, idx[0] - pad): idx[-1] + pad]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate after lower-casing and dropping punctuation."""
    import re

    def norm(s: str) -> list[str]:
        return re.sub(r"[^\w\s']", " ", s.lower()).split()

    ref, hyp = norm(reference), norm(hypothesis)
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)] / max(1, len(ref))


def speaker_time_accuracy(truth: list[SpokenTurn], turns, mapping: dict[str, str] | None = None) -> float:
    """Share of true speech time whose predicted speaker is right.

    ``turns`` are ``analyzer.records.Turn`` with words; each word's span is
    scored against the true speaker at its midpoint. Without ``mapping`` the
    best of the two label permutations is used (labels are anonymous).
    """
    spans = [(w.start, w.end, t.speaker) for t in turns for w in t.words if w.start is not None]

    def true_speaker(mid: float) -> str | None:
        for turn in truth:
            if turn.start - 0.3 <= mid <= turn.end + 0.3:
                return turn.speaker
        return None

    scored = [(e - s, p, true_speaker((s + e) / 2)) for s, e, p in spans]
    scored = [x for x in scored if x[2] is not None]
    total = sum(d for d, _, _ in scored) or 1.0
    if mapping is not None:
        return sum(d for d, p, t in scored if mapping.get(p) == t) / total
    labels = sorted({t.speaker for t in truth})
    direct = sum(d for d, p, t in scored if p == t) / total
    if len(labels) == 2:
        swap = {labels[0]: labels[1], labels[1]: labels[0]}
        swapped = sum(d for d, p, t in scored if swap.get(p) == t) / total
        return max(direct, swapped)
    return direct
