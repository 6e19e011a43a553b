"""Benchmark the analysis (everything after transcription).

Prints: seconds to build the language pipelines and fit the matcher, seconds and
peak memory to analyse a one-hour transcript (~9,000 words, built by repeating the
labelled dev transcripts), and seconds for a batch of 100 transcripts.

    python benchmarks/bench_analysis.py [--words 9000] [--batch 100]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=9000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--language", choices=["ru", "en"], default="ru")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    t0 = time.perf_counter()
    from analyzer.matching import get_matcher, get_topic_classifier
    from analyzer.nlp import get_nlp
    from analyzer.pipeline import analyze_transcript
    from analyzer.records import Transcript
    from analyzer.rubric import load_rubric
    from analyzer.signals import load_rules
    from analyzer.thresholds import load_thresholds
    from analyzer.transcripts import read_transcript

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    rubric, thresholds, rules = load_rubric(), load_thresholds(), load_rules()
    get_nlp("ru"), get_nlp("en")
    get_matcher(rubric), get_topic_classifier(rubric)
    t_build = time.perf_counter() - t0

    sources = sorted((ROOT / "sample_data" / "dev").glob(f"{args.language}_*"))
    sources = [p for p in sources if not p.name.endswith(".labels.yaml")]
    transcripts = [read_transcript(p) for p in sources]
    turns, words = [], 0
    while words < args.words:
        for t in transcripts:
            turns.extend(t.turns)
            words += sum(len(turn.text.split()) for turn in t.turns)
    long = Transcript(turns=tuple(turns), language=args.language)

    # warm the caches once on a short transcript, as a running app would be
    analyze_transcript(transcripts[0], rubric, thresholds, rules)
    t0 = time.perf_counter()
    report = analyze_transcript(long, rubric, thresholds, rules)
    t_long = time.perf_counter() - t0

    t0 = time.perf_counter()
    for i in range(args.batch):
        analyze_transcript(transcripts[i % len(transcripts)], rubric, thresholds, rules)
    t_batch = time.perf_counter() - t0

    print(f"import                         {t_import:6.2f} s")
    print(f"build pipelines + matchers     {t_build:6.2f} s")
    print(f"one-hour transcript            {t_long:6.2f} s  ({words} words, {len(long.turns)} turns, {len(report.questions)} questions)")
    print(f"batch of {args.batch} transcripts       {t_batch:6.2f} s  ({t_batch / args.batch * 1000:.0f} ms each)")
    print(f"peak memory (RSS)              {peak_rss_mb():6.0f} MB")


if __name__ == "__main__":
    main()
