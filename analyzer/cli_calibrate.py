"""The ``calibrate`` command: tune thresholds from reviewer decisions (registered by ``analyzer.cli``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import AnalyzerError


@click.command("calibrate")
@click.argument("decisions", type=click.Path(path_type=Path))
@click.option("--target-precision", type=click.FloatRange(0, 1), default=0.9, show_default=True,
              help="Precision each signal's threshold should reach on the held-out decisions.")
@click.option("--best-f1", is_flag=True, help="Choose each signal's best F1 instead of a target precision.")
@click.option("--fallback", type=click.Choice(["f1", "precision"]), default="f1", show_default=True,
              help="Where the target precision cannot be reached: the best F1, or the highest precision.")
@click.option("--ratings", "ratings_path", type=click.Path(path_type=Path),
              help="Competency ratings CSV (default: ratings.csv beside the decisions, when there is one).")
@click.option("--split", type=click.Choice(["auto", "material", "stratified"]), default="auto", show_default=True,
              help="Tune on decisions on held-out material, or on a stratified split.")
@click.option("--thresholds", "thresholds_path", type=click.Path(path_type=Path),
              help="Thresholds in force (default: models/thresholds.yaml).")
@click.option("--rubric", "rubric_path", type=click.Path(path_type=Path), help="Rubric YAML (default: the packaged guide).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the new thresholds here (e.g. models/thresholds.yaml); without it nothing is written.")
def calibrate(decisions, target_precision, best_f1, fallback, ratings_path, split, thresholds_path, rubric_path, output):
    """Choose signal and level thresholds from reviewer decisions and print what they reach.

    DECISIONS is a folder with decisions.csv/decisions.jsonl (and ratings.csv), such a
    file, or a store database. Thresholds are tuned on decisions on held-out material.

    Example: interview-analyzer calibrate sample_data/decisions --target-precision 0.9 -o models/thresholds.yaml
    """
    from .calibrate import calibrate as run, format_calibration, load_decisions, load_ratings, write_calibration
    from .rubric import load_rubric
    from .thresholds import load_thresholds

    try:
        frame = load_decisions(decisions)
        beside = decisions / "ratings.csv" if decisions.is_dir() else None
        ratings_path = ratings_path or (beside if beside is not None and beside.exists() else None)
        ratings = load_ratings(ratings_path) if ratings_path else None
        result = run(frame, load_thresholds(thresholds_path), load_rubric(rubric_path), ratings,
                     target_precision=None if best_f1 else target_precision, split=split, fallback=fallback)
        click.echo(format_calibration(result))
        if output:
            write_calibration(result, output)
            click.echo(f"wrote {output} (version {result.thresholds.version})", err=True)
    except (AnalyzerError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
