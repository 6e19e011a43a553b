"""Render the synthetic English sample interview from its script.

Reads ``sample_interview_en.script.txt`` ("Speaker: text" per line), speaks each
turn with espeak-ng in two clearly different voices (a low-pitched male
interviewer, en-us+m3; a high-pitched female candidate, en-us+f2), joins the turns with sox-made
pauses, and writes:

- ``sample_interview_en.ogg``        mono Opus, both voices mixed (acoustic speaker separation)
- ``sample_interview_en.stereo.ogg`` stereo Opus, interviewer left, candidate right, with
  -30 dB crosstalk (speaker separation by channel)
- ``sample_interview_en.truth.json`` the true speaker and time of every turn

Needs the Debian packages espeak-ng and sox, and PyAV (a dependency of faster-whisper)
for the Opus encoding. Nothing is downloaded.

Usage:
    python sample_data/make_sample_audio.py [--out-dir sample_data]

Example:
    python sample_data/make_sample_audio.py && interview-analyzer transcribe \
        sample_data/sample_interview_en.ogg -o sample_data/sample_interview_en.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "sample_interview_en.script.txt"
RATE_HZ = 16000
#: Speaker label in the script → (label in the truth file, espeak-ng options, stereo channel).
VOICES = {
    "Interviewer": ("SPEAKER_00", ["-v", "en-us+m3", "-p", "35", "-s", "180"], 0),
    "Candidate": ("SPEAKER_01", ["-v", "en-us+f2", "-p", "65", "-s", "172"], 1),
}
GAP_S = 0.7  # pause between turns
LEAD_S = 0.8  # silence before the first turn
CROSSTALK_DB = -30.0  # how loud each voice is in the other channel of the stereo file
NOISE_DBFS = -58.0  # room noise, so pauses are not digital silence
MONO_KBPS, STEREO_KBPS = 22, 28


def read_script(path: Path) -> list[tuple[str, str]]:
    """``[(speaker, text), ...]`` from a "Speaker: text" script; ``#`` lines are comments."""
    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        speaker, text = line.split(":", 1)
        turns.append((speaker.strip(), text.strip()))
    return turns


def speak(text: str, options: list[str], workdir: Path, index: int) -> np.ndarray:
    """espeak-ng → sox (16 kHz mono, trimmed, normalised to -3 dBFS) → float32 samples."""
    raw = workdir / f"turn_{index:02d}_raw.wav"
    clean = workdir / f"turn_{index:02d}.raw"
    subprocess.run(["espeak-ng", *options, "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(
        ["sox", str(raw), "-r", str(RATE_HZ), "-c", "1", "-b", "16", "-e", "signed-integer",
         "-t", "raw", str(clean),
         "silence", "1", "0.02", "0.1%", "reverse", "silence", "1", "0.02", "0.1%", "reverse",
         "gain", "-n", "-3"],
        check=True, capture_output=True,
    )
    return np.fromfile(clean, dtype="<i2").astype(np.float32) / 32768.0


def render(turns: list[tuple[str, str]], workdir: Path) -> tuple[np.ndarray, list[dict]]:
    """Two channels (interviewer, candidate) and the true turn times."""
    pieces: list[tuple[int, np.ndarray]] = []
    truth, t = [], LEAD_S
    for i, (speaker, text) in enumerate(turns):
        label, options, channel = VOICES[speaker]
        x = speak(text, options, workdir, i)
        truth.append({"speaker": label, "role": speaker.lower(), "start": round(t, 2),
                      "end": round(t + x.size / RATE_HZ, 2), "text": text})
        pieces.append((channel, x))
        t += x.size / RATE_HZ + GAP_S
    n = int(round(t * RATE_HZ))
    channels = np.zeros((2, n), dtype=np.float32)
    pos = int(LEAD_S * RATE_HZ)
    for channel, x in pieces:
        channels[channel, pos: pos + x.size] += x
        pos += x.size + int(GAP_S * RATE_HZ)
    return channels, truth


def encode_opus(path: Path, samples: np.ndarray, kbps: int) -> None:
    """Write Opus in Ogg with PyAV (sox cannot write Opus)."""
    import av

    layout = "mono" if samples.shape[0] == 1 else "stereo"
    with av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48000, layout=layout)
        stream.bit_rate = kbps * 1000
        resampler = av.audio.resampler.AudioResampler(format="flt", layout=layout, rate=48000)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32),
                                           format="fltp", layout=layout)
        frame.sample_rate = RATE_HZ
        for resampled in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument("--script", type=Path, default=SCRIPT)
    args = parser.parse_args(argv)

    turns = read_script(args.script)
    rng = np.random.default_rng(7)  # fixed seed: the same script gives the same file
    with tempfile.TemporaryDirectory() as tmp:
        channels, truth = render(turns, Path(tmp))
    bleed = 10 ** (CROSSTALK_DB / 20)
    noise = 10 ** (NOISE_DBFS / 20) * rng.standard_normal(channels.shape).astype(np.float32)
    stereo = np.stack([channels[0] + bleed * channels[1], channels[1] + bleed * channels[0]]) + noise
    mono = channels.sum(axis=0, keepdims=True) + noise[:1]
    peak = max(np.abs(stereo).max(), np.abs(mono).max())
    stereo, mono = stereo / peak * 0.9, mono / peak * 0.9

    out = args.out_dir
    encode_opus(out / "sample_interview_en.ogg", mono, MONO_KBPS)
    encode_opus(out / "sample_interview_en.stereo.ogg", stereo, STEREO_KBPS)
    duration_s = round(channels.shape[1] / RATE_HZ, 2)
    (out / "sample_interview_en.truth.json").write_text(
        json.dumps({"source": "sample_interview_en.script.txt", "duration_s": duration_s,
                    "turns": truth}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in ("sample_interview_en.ogg", "sample_interview_en.stereo.ogg"):
        print(f"{out / name}: {duration_s:.1f} s, {(out / name).stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
