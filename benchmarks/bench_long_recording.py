"""Benchmark a long recording through the whole pipeline: wall time and peak memory.

Builds a recording of ``--minutes`` minutes by repeating the bundled two-voice sample,
runs ``interview-analyzer analyze`` on it in a child process (the offline tiny.en
model unless ``--model`` says otherwise) and prints the wall time, the real-time
factor, the peak resident memory of the child, and what the report found.

    python benchmarks/bench_long_recording.py [--minutes 60] [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    from analyzer.audio import load_audio

    sample = load_audio(ROOT / "sample_data" / "sample_interview_en.ogg")
    mono = sample.samples.mean(axis=0) if sample.samples.shape[0] > 1 else sample.samples[0]
    repeats = max(1, int(np.ceil(args.minutes * 60 / sample.duration_s)))
    audio = np.tile(mono, repeats)[: int(args.minutes * 60 * 16000)]
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "long.wav"
        with wave.open(str(wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
        report_path = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "analyzer", "analyze", str(wav), "-o", str(report_path)]
        if args.model:
            command += ["--model", args.model]
        started = time.perf_counter()
        subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        report = json.loads(report_path.read_text(encoding="utf-8"))
    audio_s = len(audio) / 16000
    print(f"recording      {audio_s / 60:.1f} min ({repeats} x the sample)")
    print(f"wall time      {elapsed:.1f} s (real-time factor {elapsed / audio_s:.3f})")
    print(f"peak memory    {peak_mb:.0f} MB (resident, the analyze process)")
    print(f"speakers       {report['speakers']}")
    print(f"questions      {len(report['questions'])}, candidate talk share {report['figures'].get('candidate_talk_share')}")


if __name__ == "__main__":
    main()
