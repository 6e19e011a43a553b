"""Benchmark: bare faster-whisper against ``transcribe_file`` on the same recording.

Prints, for sequential and batched decoding with the same model and settings:
the real-time factor (seconds of work per second of audio) of bare faster-whisper
(decode + model, segments consumed), the same for ``analyzer.transcribe.transcribe_file``
(validation, voice activity detection, guards, speaker attribution included), the
overhead as a ratio of the two, and peak memory: the process's maximum resident set
size (``resource.getrusage``; each mode runs in a fresh process so the numbers do
not mix) and the peak of Python-level allocations including numpy (``tracemalloc``,
one extra run; CTranslate2's own buffers are not seen by it).

Usage:
    python benchmarks/bench_transcribe.py [AUDIO ...] [--batch-size 8] [--repeat 2] [--model M]

Example:
    python benchmarks/bench_transcribe.py sample_data/sample_interview_en.ogg --repeat 3
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_AUDIO = ROOT / "sample_data" / "sample_interview_en.ogg"
MODES = ("bare-sequential", "pipeline-sequential", "bare-batched", "pipeline-batched")


def _run_once(mode: str, path: Path, options, loaded) -> float:
    from faster_whisper.audio import decode_audio

    from analyzer.transcribe import _run_model, transcribe_file

    start = time.perf_counter()
    if mode.startswith("bare"):
        audio = decode_audio(str(path), sampling_rate=16000)
        language = None if options.language == "auto" else options.language
        segments, _ = _run_model(loaded.model, audio, options, language)  # the plain faster-whisper call
        for _ in segments:
            pass
    else:
        transcribe_file(path, options, model=loaded)
    return time.perf_counter() - start


def measure(mode: str, path: str, model: str | None, batch_size: int, repeat: int, trace: bool) -> dict:
    """Run one mode in this (fresh) process and return its figures."""
    from analyzer.audio import load_audio
    from analyzer.resources import load_speech_model
    from analyzer.transcribe import TranscribeOptions

    options = TranscribeOptions(model=model, batch_size=batch_size if mode.endswith("batched") else 1,
                                device="cpu")
    t0 = time.perf_counter()
    loaded = load_speech_model(model, device="cpu")
    load_s = time.perf_counter() - t0
    duration_s = load_audio(path).duration_s
    times = [_run_once(mode, Path(path), options, loaded) for _ in range(repeat)]
    peak_py = None
    if trace:
        tracemalloc.start()
        _run_once(mode, Path(path), options, loaded)
        peak_py = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {
        "mode": mode,
        "audio_s": duration_s,
        "load_s": load_s,
        "best_s": min(times),
        "rtf": min(times) / duration_s,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "tracemalloc_peak_mb": None if peak_py is None else peak_py / 2**20,
        "model": loaded.path,
        "threads": loaded.cpu_threads,
    }


def _child(queue, *args) -> None:
    queue.put(measure(*args))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", nargs="*", type=Path, default=[DEFAULT_AUDIO])
    parser.add_argument("--model", default=None, help="model folder/name (default: the resolver's choice)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per mode; the best is kept")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the extra traced run")
    args = parser.parse_args(argv)

    ctx = mp.get_context("spawn")
    print(f"# {platform.processor() or platform.machine()}, {mp.cpu_count()} logical CPUs, "
          f"python {platform.python_version()}")
    for path in args.audio:
        results = {}
        for mode in MODES:
            queue = ctx.Queue()
            proc = ctx.Process(target=_child, args=(queue, mode, str(path), args.model, args.batch_size,
                                                    args.repeat, not args.no_tracemalloc))
            proc.start()
            results[mode] = queue.get()
            proc.join()
        first = results[MODES[0]]
        print(f"\n{path.name}: {first['audio_s']:.1f} s of audio, model {Path(first['model']).name} "
              f"({first['model']}), {first['threads']} CPU threads, best of {args.repeat}")
        print(f"{'mode':22s} {'time s':>8s} {'RTF':>7s} {'max RSS MB':>11s} {'tracemalloc MB':>15s}")
        for mode in MODES:
            r = results[mode]
            peak = "-" if r["tracemalloc_peak_mb"] is None else f"{r['tracemalloc_peak_mb']:.1f}"
            print(f"{mode:22s} {r['best_s']:8.2f} {r['rtf']:7.3f} {r['maxrss_mb']:11.0f} {peak:>15s}")
        for kind in ("sequential", "batched"):
            ratio = results[f"pipeline-{kind}"]["best_s"] / results[f"bare-{kind}"]["best_s"]
            print(f"overhead {kind}: transcribe_file / bare faster-whisper = {ratio:.2f}x")
        print(f"batched speed-up (pipeline): "
              f"{results['pipeline-sequential']['best_s'] / results['pipeline-batched']['best_s']:.2f}x")


if __name__ == "__main__":
    main()
