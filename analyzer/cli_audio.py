"""Command-line shell of the audio half: ``transcribe`` and ``download-models``.

The main group in ``analyzer/cli.py`` adds these commands with
``main.add_command(...)`` (or :func:`register`). Each command only parses
options, calls the package and prints; an :class:`~analyzer.errors.AnalyzerError`
becomes ``error: <message>`` on stderr with exit code 1, never a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from analyzer.errors import AnalyzerError
from analyzer.resources import MODELS_DIR, download_models
from analyzer.transcribe import DEVICES, LANGUAGES, SPEAKER_MODES, TranscribeOptions, transcribe_file


class ProgressBar:
    """A one-line progress bar on stderr: audio seconds done/total, elapsed, time left.

    On a terminal the line is redrawn in place; otherwise (logs, CI) a line is
    printed every 10%.
    """

    def __init__(self, stream=None, width: int = 24):
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1
        self._drawn = False

    def __call__(self, done_s: float, total_s: float) -> None:
        share = min(max(done_s / total_s, 0.0), 1.0) if total_s > 0 else 0.0
        elapsed = time.monotonic() - self.started
        left = elapsed * (1 - share) / share if share > 0.02 else None
        filled = int(round(share * self.width))
        line = (f"transcribing [{'#' * filled}{'.' * (self.width - filled)}] {share:4.0%}  "
                f"{done_s:6.1f}/{total_s:.1f} s audio  elapsed {_clock(elapsed)}  "
                f"left {'~' + _clock(left) if left is not None else '?'}")
        if self.tty:
            click.echo("\r" + line, file=self.stream, nl=False)
            self._drawn = True
        elif int(share * 10) > self._last_decile:
            self._last_decile = int(share * 10)
            click.echo(line, file=self.stream)

    def close(self) -> None:
        if self.tty and self._drawn:
            click.echo("", file=self.stream)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(1)


@click.command("transcribe")
@click.argument("audio", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON transcript to this file (default: standard output).")
@click.option("--model", default=None, metavar="PATH|SIZE|REPO",
              help="CTranslate2 Whisper folder, size name (small, large-v2…) or Hub repo id "
                   "already on this machine. Default: $INTERVIEW_ANALYZER_MODEL, models/, the "
                   "offline English package, then the Hugging Face cache.")
@click.option("--language", type=click.Choice(LANGUAGES), default="auto", show_default=True,
              help="Spoken language; ru needs a multilingual model.")
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True,
              help="auto uses CUDA when it works and falls back to the CPU with a note.")
@click.option("--compute-type", default="auto", show_default=True,
              help="CTranslate2 compute type (int8, int8_float16, float16, float32); "
                   "auto = int8 on CPU, float16 on CUDA.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True,
              help="Above 1: transcribe speech chunks in batches (faster, on GPU above all).")
@click.option("--speakers", type=click.Choice(SPEAKER_MODES), default="auto", show_default=True,
              help="How to tell the two speakers apart: by stereo channel, acoustically, or not.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show a progress bar on stderr.")
def transcribe_command(audio: Path, output: Path | None, model: str | None, language: str,
                       device: str, compute_type: str, batch_size: int, speakers: str,
                       progress: bool) -> None:
    """Transcribe an interview recording into a JSON transcript.

    Reads wav, mp3, m4a, ogg/opus, flac, webm or the sound of an mp4/mkv. The
    two speakers get anonymous labels SPEAKER_00 (who speaks first) and
    SPEAKER_01. Nothing is downloaded: without a local model the command says
    which one to fetch.

    \b
    Example:
        interview-analyzer transcribe interview.m4a -o interview.json
        interview-analyzer transcribe call.ogg --language ru --model models/whisper-small
    """
    bar = ProgressBar() if progress else None
    try:
        options = TranscribeOptions(model=model, language=language, device=device,
                                    compute_type=compute_type, batch_size=batch_size,
                                    speakers=speakers)
        transcript = transcribe_file(audio, options, progress=bar)
    except AnalyzerError as exc:
        if bar:
            bar.close()
        _fail(str(exc))
    if bar:
        bar.close()
    for note in transcript.metadata.get("notes", []):
        click.echo(f"note: {note}", err=True)
    text = json.dumps(transcript.to_dict(), ensure_ascii=False, indent=1)
    if output is None:
        click.echo(text)
    else:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            _fail(f"{output}: cannot write the transcript ({exc.strerror or exc})")
    meta = transcript.metadata
    click.echo(
        f"{output or 'transcript'}: {len(transcript.turns)} turns, "
        f"{len(transcript.speakers)} speaker(s) ({meta['speakers']['method']}), "
        f"{transcript.duration_s:.1f} s of audio in {meta['elapsed_s']:.1f} s "
        f"(real-time factor {meta['real_time_factor']:.2f})",
        err=True,
    )


@click.command("download-models")
@click.argument("name")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=MODELS_DIR,
              show_default=True, help="Folder that receives whisper-NAME/.")
def download_models_command(name: str, dest: Path) -> None:
    """Download a Whisper speech model for offline use.

    This is the only command that uses the network. NAME is a size (tiny, base,
    small, medium, large-v2, large-v3, turbo; *.en for English-only) or a
    Hugging Face repo id of a CTranslate2 Whisper model. Russian needs a
    multilingual model (no .en).

    \b
    Example:
        interview-analyzer download-models small --dest models/
    """
    try:
        path = download_models(name, dest)
    except AnalyzerError as exc:
        _fail(str(exc))
    click.echo(f"{name} is in {path}; transcribe picks it up from {dest}/", err=True)


#: The commands of this module, for ``main.add_command``.
COMMANDS = (transcribe_command, download_models_command)


def register(group: click.Group) -> click.Group:
    """Add this module's commands to the main CLI group.

    Args:
        group: The ``click.Group`` of ``analyzer/cli.py``.

    Returns:
        The same group.
    """
    for command in COMMANDS:
        group.add_command(command)
    return group


@click.group()
def audio_cli() -> None:
    """Audio commands on their own (python -m analyzer.cli_audio).

    \b
    Example:
        python -m analyzer.cli_audio transcribe interview.m4a -o interview.json
    """


register(audio_cli)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(audio_cli())
