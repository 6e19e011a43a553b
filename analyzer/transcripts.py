"""Read and write transcript files: plain text, WebVTT (Zoom, Teams), SRT, JSON.

The format is chosen from the file's extension and confirmed from its content
(a ``.txt`` that starts with ``WEBVTT`` is read as WebVTT). Every reader returns a
:class:`~analyzer.records.Transcript`; consecutive pieces of one speaker become one
turn, so a Zoom export cut into 5-second cues reads as whole turns.
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from pathlib import Path
from typing import Any, Callable

from .errors import TranscriptError
from .records import TRANSCRIPT_FORMAT, Transcript, Turn, Word

#: Extensions of the transcript formats we read.
TRANSCRIPT_EXTENSIONS = (".txt", ".text", ".md", ".vtt", ".srt", ".json")
MAX_TRANSCRIPT_BYTES = 50 * 1024 * 1024

_TS = r"(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?"
_LINE_TIME = re.compile(r"^\s*[\[(]\s*" + _TS + r"\s*[\])]\s*")
_CUE_TIME = re.compile(r"^\s*" + _TS + r"\s*-->\s*" + _TS)
# "Name: text". A speaker label is short and starts with a letter; it must not
# look like a sentence ("Note: ..." in the middle of speech is rare enough).
_SPEAKER = re.compile(r"^\s*([^\W\d_][\w .'’\-()]{0,40}?|SPEAKER[_ ]?\d+)\s*[:：](?!//)\s*(.*)$")
_SPEAKER_BRACKET = re.compile(r"^\s*\[([^\]]{1,40})\]\s*(\S.*)$")
# "[laughs]", "(inaudible)", "[музыка]": a sound, not a speaker or words
_SOUND = re.compile(r"^\s*[\[(][^\])]{1,40}[\])]\s*$")
_VOICE = re.compile(r"<v(?:\.[\w.\-]+)?\s+([^>]+)>(.*?)(?:</v>|$)", re.S)
_TAG = re.compile(r"</?[a-z][^>]*>|<\d{1,2}:\d{2}(?::\d{2})?[.,]\d{3}>", re.I)


def _seconds(h: str | None, m: str, s: str, frac: str | None) -> float:
    value = int(h or 0) * 3600 + int(m) * 60 + int(s)
    if frac:
        value += int(frac.ljust(3, "0")[:3]) / 1000
    return float(value)


def _merge(pieces: list[tuple[str, str, float | None, float | None]]) -> tuple[Turn, ...]:
    """Join consecutive pieces of one speaker into turns."""
    turns: list[Turn] = []
    for speaker, text, start, end in pieces:
        text = " ".join(unicodedata.normalize("NFC", html.unescape(text)).split())
        speaker = unicodedata.normalize("NFC", speaker)
        if not text:
            continue
        if turns and turns[-1].speaker == speaker:
            last = turns[-1]
            turns[-1] = Turn(
                speaker=speaker,
                text=f"{last.text} {text}",
                start=last.start if last.start is not None else start,
                end=end if end is not None else last.end,
            )
        else:
            turns.append(Turn(speaker=speaker, text=text, start=start, end=end))
    return tuple(turns)


def _plain_speakers(labels: list[str]) -> set[str]:
    """Tell speaker labels from sentences that merely contain a colon.

    A real speaker talks more than once, so a label seen twice is a speaker; a
    label seen once counts when it looks like a name or a role (up to three
    capitalised words: "HR Manager"), or when it is short and there would not
    otherwise be two speakers. "My first step: I called…" continues a turn.
    """
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    speakers = {label for label, n in counts.items() if n >= 2}
    if len(speakers) < 2:
        speakers |= {label for label, n in counts.items() if len(label.split()) <= 2}
    # Someone who speaks once (a colleague's single question) still has a name: "HR Manager".
    speakers |= {label for label in counts
                 if len(label.split()) <= 3 and all(word[:1].isupper() for word in label.split())}
    return speakers


def parse_plain(text: str) -> tuple[Turn, ...]:
    """``Speaker: text`` per line, optional ``[mm:ss]`` stamp; other lines continue."""
    lines: list[tuple[str, float | None, re.Match[str] | None]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        start = None
        stamp = _LINE_TIME.match(line)
        if stamp:
            start = _seconds(*stamp.groups())
            line = line[stamp.end():]
        if _SOUND.match(line):
            continue
        lines.append((line, start, _SPEAKER.match(line)))
    speakers = _plain_speakers([m.group(1).strip() for _, _, m in lines if m])
    pieces: list[list[Any]] = []
    for line, start, match in lines:
        if match and match.group(1).strip() not in speakers:
            match = None  # "Вот что я сделал: позвонил…" continues a turn
        if match:
            pieces.append([match.group(1).strip(), match.group(2), start, None])
        elif pieces:
            pieces[-1][1] += " " + line
        else:
            raise TranscriptError(
                f"line {line[:40]!r} has no speaker; expected 'Speaker: text' lines"
            )
    # A turn ends where the next one starts when only start stamps are given.
    for current, following in zip(pieces, pieces[1:]):
        if current[2] is not None and following[2] is not None:
            current[3] = following[2]
    return _merge([tuple(p) for p in pieces])  # type: ignore[misc]


def _cue_blocks(text: str) -> list[tuple[float, float, list[str]]]:
    blocks: list[tuple[float, float, list[str]]] = []
    current: list[Any] | None = None
    for raw in text.splitlines():
        line = raw.rstrip("\ufeff").rstrip()
        timing = _CUE_TIME.match(line)
        if timing:
            groups = timing.groups()
            current = [_seconds(*groups[:4]), _seconds(*groups[4:]), []]
            blocks.append(current)  # type: ignore[arg-type]
        elif not line.strip():
            current = None
        elif current is not None:
            current[2].append(line.strip())
    return [tuple(b) for b in blocks]  # type: ignore[misc]


def _speaker_of_cue(lines: list[str], previous: str | None, speakers: set[str]) -> list[tuple[str, str]]:
    text = "\n".join(lines)
    voices = _VOICE.findall(text)
    if voices:  # Teams: <v Name>text</v>
        return [(name.strip(), _TAG.sub("", body)) for name, body in voices]
    out: list[tuple[str, str]] = []
    for line in lines:
        line = _TAG.sub("", line)
        if _SOUND.match(line):
            continue  # "[laughs]" is neither a speaker nor words
        match = _SPEAKER.match(line) or _SPEAKER_BRACKET.match(line)
        if match and match.group(1).strip() in speakers:
            previous = match.group(1).strip()
            out.append((previous, match.group(2)))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line)
        else:
            out.append((previous or "", line))
    return out


def _cue_labels(blocks: list[tuple[float, float, list[str]]]) -> set[str]:
    labels = []
    for _, _, lines in blocks:
        for line in lines:
            line = _TAG.sub("", line)
            if _SOUND.match(line):
                continue
            match = _SPEAKER.match(line) or _SPEAKER_BRACKET.match(line)
            if match:
                labels.append(match.group(1).strip())
    return _plain_speakers(labels)


def _parse_cues(text: str, kind: str) -> tuple[Turn, ...]:
    pieces: list[tuple[str, str, float | None, float | None]] = []
    previous: str | None = None
    blocks = _cue_blocks(text)
    speakers = _cue_labels(blocks)
    for start, end, lines in blocks:
        for speaker, body in _speaker_of_cue(lines, previous, speakers):
            previous = speaker or previous
            pieces.append((speaker, body, start, end))
    if not pieces:
        raise TranscriptError(f"no cues found in this {kind} file")
    if all(not speaker for speaker, *_ in pieces):
        raise TranscriptError(
            f"{kind} cues carry no speaker names; expected 'Name: text' or '<v Name>text</v>'"
        )
    # Cues before anyone is named («Recording in progress.») are announcements, not speech.
    return _merge([p for p in pieces if p[0]])


def parse_vtt(text: str) -> tuple[Turn, ...]:
    """WebVTT as Zoom (``Name: text``) and Microsoft Teams (``<v Name>text</v>``) export it."""
    return _parse_cues(text, "WebVTT")


def parse_srt(text: str) -> tuple[Turn, ...]:
    """SRT with ``Name: text`` or ``[Name] text`` cue text."""
    return _parse_cues(text, "SRT")


def transcript_from_dict(data: Any) -> Transcript:
    """Build a Transcript from the project's JSON transcript (see README)."""
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise TranscriptError("JSON is not an interview-analyzer transcript (no 'turns' list)")
    fmt = data.get("format", TRANSCRIPT_FORMAT)
    if fmt != TRANSCRIPT_FORMAT:
        raise TranscriptError(f"JSON format {fmt!r} is not {TRANSCRIPT_FORMAT!r}")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise TranscriptError("'metadata' must be an object")
    turns = []
    for i, item in enumerate(data["turns"]):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise TranscriptError(f"turns[{i}] needs a 'text' string")
        if not isinstance(item.get("speaker"), str) or not item["speaker"].strip():
            raise TranscriptError(f"turns[{i}] needs a 'speaker' string")
        try:
            words = tuple(
                Word(
                    text=unicodedata.normalize("NFC", str(w["text"])),
                    start=_opt_float(w.get("start")),
                    end=_opt_float(w.get("end")),
                    probability=_opt_float(w.get("probability")),
                )
                for w in item.get("words") or ()
            )
            turn = Turn(
                speaker=unicodedata.normalize("NFC", item["speaker"].strip()),
                text=" ".join(unicodedata.normalize("NFC", item["text"]).split()),
                start=_opt_float(item.get("start")),
                end=_opt_float(item.get("end")),
                words=words,
                confidence=_opt_float(item.get("confidence")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TranscriptError(f"turns[{i}] is malformed ({exc})") from None
        if turn.start is not None and turn.end is not None and turn.end < turn.start:
            raise TranscriptError(f"turns[{i}] ends ({turn.end}) before it starts ({turn.start})")
        if turn.text:
            turns.append(turn)
    language = data.get("language")
    try:
        duration_s = _opt_float(data.get("duration_s"))
    except (TypeError, ValueError):
        raise TranscriptError(f"'duration_s' must be a number of seconds, not {data.get('duration_s')!r}") from None
    return Transcript(
        turns=tuple(turns),
        language=language if language in ("ru", "en") else None,
        source=data.get("source"),
        duration_s=duration_s,
        metadata=dict(metadata),
    )


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _detect(path: Path, text: str) -> str:
    head = text.lstrip("\ufeff \n\r\t")[:200]
    if head.startswith("WEBVTT"):
        return "vtt"
    if head.startswith("{"):
        return "json"
    if re.match(r"^\d+\s*\r?\n\s*" + _TS + r"\s*-->", head):
        return "srt"
    suffix = path.suffix.lower()
    if suffix == ".vtt":
        return "vtt"
    if suffix == ".srt":
        return "srt"
    if suffix == ".json":
        return "json"
    if suffix in (".txt", ".text", ".md", ""):
        return "txt"
    raise TranscriptError(
        f"unknown transcript format {suffix!r}; expected one of {', '.join(TRANSCRIPT_EXTENSIONS)}",
        path,
    )


_PARSERS: dict[str, Callable[[str], tuple[Turn, ...]]] = {
    "txt": parse_plain,
    "vtt": parse_vtt,
    "srt": parse_srt,
}


def read_text_file(path: str | Path) -> str:
    """Read a UTF-8 text file, refusing binary content with a clear error."""
    path = Path(path)
    if not path.exists():
        raise TranscriptError("no such file", path)
    if path.is_dir():
        raise TranscriptError("is a folder, not a transcript file", path)
    size = path.stat().st_size
    if size == 0:
        raise TranscriptError("the file is empty", path)
    if size > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(f"the file is {size // 2**20} MiB, more than a transcript can be", path)
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise TranscriptError("this is a binary file, not a text transcript", path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1251")  # Russian Windows exports
        except UnicodeDecodeError:
            raise TranscriptError("the file is not UTF-8 text", path) from None
    if not text.strip():
        raise TranscriptError("the file holds only whitespace", path)
    return text


def parse_transcript(text: str, fmt: str) -> Transcript:
    """Parse transcript text of a known format (``txt``, ``vtt``, ``srt``, ``json``)."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
        return transcript_from_dict(data)
    return Transcript(turns=_PARSERS[fmt](text))


def read_transcript(path: str | Path) -> Transcript:
    """Read a transcript file in any supported format.

    Args:
        path: a ``.txt``, ``.vtt``, ``.srt`` or ``.json`` transcript.

    Returns:
        The transcript, with ``source`` set to the path.

    Raises:
        TranscriptError: the file is missing, empty, binary, of an unknown format,
            malformed, or holds fewer than two speakers.
    """
    path = Path(path)
    text = read_text_file(path)
    fmt = _detect(path, text)
    try:
        transcript = parse_transcript(text, fmt)
    except TranscriptError as exc:
        raise TranscriptError(exc.message, path) from None
    if not transcript.turns:
        raise TranscriptError("no speech turns found", path)
    if len(transcript.speakers) < 2:
        raise TranscriptError(
            f"only one speaker ({transcript.speakers[0]!r}) found; an interview needs the "
            "interviewer and the candidate labelled apart",
            path,
        )
    return Transcript(
        turns=transcript.turns,
        language=transcript.language,
        source=transcript.source or str(path),
        duration_s=transcript.duration_s,
        metadata=transcript.metadata,
    )


def write_transcript(transcript: Transcript, path: str | Path) -> Path:
    """Write the project's JSON transcript atomically (temp file, then rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(transcript.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path
