"""How fast the store opens a one-hour interview and saves a reviewer's decision.

Builds a one-hour interview (about 9,000 words) by repeating the Russian sample
transcript with shifted times, analyses and stores it in a temporary database,
then measures:

- ``open_interview`` (interview, transcript, report and decisions parsed into records);
- the review page of that interview rendered by Streamlit's AppTest (what a
  reviewer waits for after a click; includes Streamlit's own overhead);
- ``set_decision`` (one short write transaction, as the page does per click).

Targets: open in under 1 s, a decision in under 100 ms. Exit code 1 when missed.

Usage:
    python benchmarks/bench_store.py [--words 9000] [--decisions 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OPEN_TARGET_S = 1.0
DECISION_TARGET_S = 0.100


def long_transcript(words: int):
    """The Russian sample repeated until it has ``words`` words, times shifted per copy."""
    from analyzer.transcripts import read_transcript

    base = read_transcript(REPO / "sample_data" / "dev" / "ru_strong_zoom.vtt")
    span = max(t.end or 0.0 for t in base.turns) + 5.0
    per_copy = sum(len(t.text.split()) for t in base.turns)
    copies = -(-words // per_copy)
    turns = []
    for n in range(copies):
        shift = n * span
        turns += [dataclasses.replace(t, start=(t.start or 0) + shift, end=(t.end or 0) + shift) for t in base.turns]
    return dataclasses.replace(base, turns=tuple(turns), duration_s=copies * span)


def timed(func, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=9000)
    parser.add_argument("--decisions", type=int, default=200)
    args = parser.parse_args(argv)

    from analyzer.pipeline import analyze_transcript
    from analyzer.store import Flag, Store

    transcript = long_transcript(args.words)
    n_words = sum(len(t.text.split()) for t in transcript.turns)
    start = time.perf_counter()
    report = analyze_transcript(transcript)
    analyse_s = time.perf_counter() - start
    flags = [(q, s) for q in report.questions for s in q.signals]

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        store = Store(db)
        iid = store.save_analysis(REPO / "sample_data" / "dev" / "ru_strong_zoom.vtt", transcript, report)
        rid = store.latest_report(iid).id
        size_kb = db.stat().st_size / 1024 + (db.with_name(db.name + "-wal").stat().st_size / 1024
                                                 if db.with_name(db.name + "-wal").exists() else 0)

        open_s = timed(lambda: store.open_interview(iid), 7)

        decision_s = []
        for i in range(args.decisions):
            q, s = flags[i % len(flags)]
            flag = Flag(q.index, s.signal, s.rule_id, s.start_char, s.end_char)
            t0 = time.perf_counter()
            store.set_decision(rid, flag, "confirm" if i % 2 else "reject", reviewer="bench", text=s.text)
            decision_s.append(time.perf_counter() - t0)

        os.environ["INTERVIEW_ANALYZER_DB"] = str(db)
        os.environ["INTERVIEW_ANALYZER_WORKER"] = "0"
        from streamlit.testing.v1 import AppTest

        def render():
            at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
            at.query_params["interview"] = str(iid)
            at.run()
            assert not at.exception, at.exception

        render()  # imports and caches, as a running server has them
        page_s = timed(render, 3)

    p95 = sorted(decision_s)[int(0.95 * len(decision_s)) - 1]
    print(f"interview: {n_words} words, {len(transcript.turns)} turns, {transcript.duration_s / 60:.0f} min, "
          f"{len(report.questions)} question entries, {len(flags)} flags; database {size_kb:.0f} KiB")
    print(f"analysis (not a target): {analyse_s:.2f} s")
    print(f"open_interview: median {statistics.median(open_s) * 1000:.1f} ms, max {max(open_s) * 1000:.1f} ms "
          f"(target < {OPEN_TARGET_S * 1000:.0f} ms)")
    print(f"review page render (AppTest, whole script run): median {statistics.median(page_s) * 1000:.0f} ms, "
          f"max {max(page_s) * 1000:.0f} ms (target < {OPEN_TARGET_S * 1000:.0f} ms)")
    print(f"set_decision: median {statistics.median(decision_s) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms, "
          f"max {max(decision_s) * 1000:.2f} ms over {len(decision_s)} (target < {DECISION_TARGET_S * 1000:.0f} ms)")
    ok = max(open_s) < OPEN_TARGET_S and statistics.median(page_s) < OPEN_TARGET_S and p95 < DECISION_TARGET_S
    print("ok" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
