"""Command-line interface: a thin shell over the library.

Every command turns an :class:`~analyzer.errors.AnalyzerError` into one line on
stderr (``error: <file>: <problem>``) and exit code 1; no traceback reaches a user.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from . import __version__
from .cli_errors import one_line_errors
from .errors import InputError

AUDIO_EXTENSIONS = (".wav", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".oga", ".flac", ".webm", ".mp4", ".mkv", ".mov", ".wma")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="interview-analyzer")
@click.option("-v", "--verbose", is_flag=True, help="Log what the analyzer does to stderr.")
def main(verbose: bool) -> None:
    """Analyse interview recordings and transcripts against an interview guide.

    The tool surfaces evidence with quotes and times; a person decides.

    Example: interview-analyzer analyze sample_data/sample_interview_en.ogg --format md
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _write(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    if out.is_dir():
        raise InputError("is a folder; give a file name for the report", out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # atomic: a failed run never leaves half a report
    click.echo(f"wrote {out}", err=True)


def _transcriber(model, language, device, compute_type, batch_size):
    """The transcription step for recordings (imported only when a recording is given)."""

    def run(path: Path):
        from .cli_audio import ProgressBar
        from .transcribe import TranscribeOptions, transcribe_file

        options = TranscribeOptions(model=model, language=language, device=device, batch_size=batch_size,
                                    **({"compute_type": compute_type} if compute_type else {}))
        bar = ProgressBar()
        try:
            return transcribe_file(path, options, progress=bar)
        finally:
            bar.close()

    return run


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--rubric", "rubric_path", type=click.Path(path_type=Path), help="Rubric YAML (default: the Account Manager guide).")
@click.option("--thresholds", "thresholds_path", type=click.Path(path_type=Path), help="Thresholds YAML (default: models/thresholds.yaml).")
@click.option("--language", type=click.Choice(["auto", "ru", "en"]), default="auto", show_default=True)
@click.option("--interviewer", help="Speaker label of the interviewer (overrides the inference).")
@click.option("--format", "fmt", type=click.Choice(["json", "md", "csv"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write here instead of stdout.")
@click.option("--model", help="Speech model for recordings: size name, repo id or local folder.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--compute-type", default=None, help="CTranslate2 compute type (default: int8 on CPU).")
@click.option("--batch-size", type=int, default=1, show_default=True, help="Batched transcription when > 1.")
@click.option("--save-transcript", type=click.Path(path_type=Path), help="Also write the transcript JSON of a recording here.")
@click.option("--db", envvar="INTERVIEW_ANALYZER_DB", show_envvar=True,
              help="Also store the interview and report in this database (path or sqlite:/// URL).")
@one_line_errors
def analyze(input_path, rubric_path, thresholds_path, language, interviewer, fmt, output, model, device, compute_type,
            batch_size, save_transcript, db):
    """Analyse a transcript (.txt .vtt .srt .json) or a recording (.wav .mp3 .m4a .ogg .flac .webm .mp4 …).

    Example: interview-analyzer analyze interview.vtt --format md -o report.md
    """
    from .pipeline import analyze_file
    from .report import to_csv, to_json, to_markdown
    from .rubric import load_rubric
    from .transcripts import write_transcript

    is_audio = input_path.suffix.lower() in AUDIO_EXTENSIONS
    transcribe = _transcriber(model, language, device, compute_type, batch_size) if is_audio else None
    transcript, report = analyze_file(input_path, rubric_path=rubric_path, thresholds_path=thresholds_path,
                                      language=language, interviewer=interviewer, transcribe=transcribe)
    if save_transcript:
        write_transcript(transcript, save_transcript)
    if db:
        from .store import Store

        with Store(db) as store:
            interview_id = store.save_analysis(input_path, transcript, report)
        click.echo(f"stored as interview {interview_id} in {db}", err=True)
    if fmt == "json":
        text = to_json(report)
    elif fmt == "md":
        text = to_markdown(report, load_rubric(rubric_path))
    else:
        text = to_csv(report)
    _write(text, output)


@main.group()
def rubric() -> None:
    """Work with rubric files.

    Example: interview-analyzer rubric check my_guide.yaml
    """


@rubric.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@one_line_errors
def rubric_check(path):
    """Validate a rubric YAML file and summarise it.

    Example: interview-analyzer rubric check analyzer/rubric/account_manager.yaml
    """
    from .rubric import load_rubric

    r = load_rubric(path)
    bank = sum(1 for q in r.questions if q.parent is None)
    click.echo(f"ok: {path}: rubric {r.id} {r.version}, {len(r.competencies)} competencies, "
               f"{bank} questions, {len(r.questions) - bank} follow-ups, {len(r.signals)} signals")


@main.command("eval")
@click.argument("labels_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--thresholds", "thresholds_path", type=click.Path(path_type=Path))
@one_line_errors
def eval_cmd(labels_dir, as_json, thresholds_path):
    """Measure question matching and signals against labelled data.

    LABELS_DIR holds *.labels.yaml beside transcripts and answers_*.yaml files
    (see sample_data/LABELS.md); a folder of such folders is measured per folder.

    Example: interview-analyzer eval sample_data/heldout
    """
    from .evaluate import evaluate_folder, format_result
    from .thresholds import load_thresholds

    thresholds = load_thresholds(thresholds_path)
    subdirs = [d for d in sorted(labels_dir.iterdir()) if d.is_dir() and any(d.glob("*.yaml"))] if labels_dir.is_dir() else []
    top_level = labels_dir.is_dir() and (any(labels_dir.glob("*.labels.yaml")) or any(labels_dir.glob("answers_*.yaml")))
    folders = subdirs + ([labels_dir] if top_level or not subdirs else [])
    results = []
    for folder in folders:
        overall, per_file = evaluate_folder(folder, thresholds=thresholds)
        results.append((overall, per_file))
    if as_json:
        click.echo(json.dumps({o.name: {**o.to_dict(), "files": [f.to_dict() for f in pf]} for o, pf in results},
                              ensure_ascii=False, indent=2))
    else:
        click.echo("\n\n".join(format_result(o, pf) for o, pf in results))


def _register_optional() -> None:
    """Commands of the other pipeline stages: each module adds its own."""
    from . import cli_audio, cli_calibrate, cli_store

    cli_audio.register(main)
    main.add_command(cli_store.list_cmd)
    main.add_command(cli_store.delete_cmd)
    main.add_command(cli_calibrate.calibrate)


_register_optional()
