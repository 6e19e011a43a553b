"""Recording → attributed :class:`~analyzer.records.Transcript` with faster-whisper.

The pipeline: :func:`analyzer.audio.load_audio` (decode, validate) → voice
activity detection (a file or channel without speech never reaches the model)
→ Whisper, sequential or batched → guards against invented text
(:func:`filter_segments`) → words → speakers (:mod:`analyzer.speakers`) → turns.

Guards against text that was never said (FAILURE-MODES.md, "Speech recognition"):

- voice activity filtering always on, with options tuned for interviews;
- ``condition_on_previous_text=False`` and ``hallucination_silence_threshold``;
- a segment with a high no-speech probability *and* a low average log-probability
  is dropped;
- a segment whose own text compresses too well (a phrase looping inside it) is dropped;
- a sentence that repeats one of the last few kept segments is dropped (loop detector);
- a segment made only of the hotword vocabulary (the prompt read back) is dropped;
- a blocklist of known invented phrases, matched as whole segments, as a backstop.

Everything dropped is listed in ``Transcript.metadata["dropped"]``, with the share
of audio that voice activity detection removed (flagged above 50%).

Example:
    >>> from types import SimpleNamespace as S
    >>> seg = S(start=0.0, end=1.0, text=" Thank you for watching!", words=None,
    ...         no_speech_prob=0.1, avg_logprob=-0.2, compression_ratio=1.0)
    >>> kept, dropped = filter_segments([seg])
    >>> kept, dropped[0]["reason"]
    ([], 'blocklist:en.thanks_for_watching.v1')
"""

from __future__ import annotations

import logging
import math
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.audio import DecodedAudio, load_audio
from analyzer.errors import AnalyzerError, AudioError, ModelNotAvailable
from analyzer.records import Transcript, Word
from analyzer.resources import LoadedModel, load_speech_model
from analyzer.speakers import (
    Attribution,
    attribute_channel_words,
    detect_channel_speakers,
    isolate_channels,
    diarize_words,
    diarize_words_pyannote,
    pyannote_pipeline_path,
    words_to_turns,
)

logger = logging.getLogger("analyzer")

#: Progress callback: ``progress(done_audio_s, total_audio_s)``.
Progress = Callable[[float, float], None]

#: Terms of the interview guide that Whisper tends to misspell; passed as hotwords
#: (see :meth:`TranscribeOptions.hotwords` for when).
DOMAIN_VOCABULARY: dict[str, tuple[str, ...]] = {
    "shared": ("LTV", "CAC", "PnL", "CRM", "KPI", "NPS"),
    "ru": ("апсейл", "кросс-сейл", "фоллоу-ап", "онбординг", "лиды", "воронка",
           "ретаргетинг", "аккаунт-менеджер", "маржинальность"),
    "en": ("upsell", "cross-sell", "follow-up", "churn", "onboarding", "account manager"),
}

#: Languages whose transcripts get :data:`DOMAIN_VOCABULARY` as hotwords by default:
#: the Russian terms are loanwords Whisper spells in Latin or garbles. English is
#: left out because the terms made tiny.en worse on the English sample.
VOCABULARY_LANGUAGES = ("ru",)

#: Phrases Whisper invents over silence, music or noise (Koenecke et al., FAccT 2024;
#: faster-whisper and whisper.cpp issues). Matched against a whole segment's text,
#: lower-cased, with punctuation removed; names after the phrase vary, hence the tails.
HALLUCINATION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("ru.to_be_continued.v1", r"продолжение следует"),
    ("ru.subtitles_by.v1",
     r"(субтитры|титры) (сделал|сделала|делал|делала|создавал|создал|создала|подготовил|"
     r"подготовила|подогнал|подогнала|выполнил|выполнила|от)( \w+){0,6}"),
    ("ru.subtitle_editor.v1", r"(редактор|корректор) субтитров( \w+){0,10}"),
    ("ru.thanks_for_watching.v1", r"(всем )?спасибо за просмотр( \w+){0,3}"),
    ("ru.subscribe.v1", r"(ставьте лайки )?(и )?подписывайтесь на (мой |наш )?канал( \w+){0,4}"),
    ("en.thanks_for_watching.v1", r"(thank you|thanks) (so much )?for watching( \w+){0,3}"),
    ("en.subscribe.v1", r"(please )?(like and )?subscribe( to (my|our|the) channel)?"),
    ("en.subtitles_by.v1", r"(subtitles|captions) by( \w+){1,6}"),
)
_BLOCKLIST = tuple((rule_id, re.compile(pattern)) for rule_id, pattern in HALLUCINATION_PATTERNS)

LANGUAGES = ("auto", "ru", "en")
DEVICES = ("auto", "cpu", "cuda")
SPEAKER_MODES = ("auto", "channels", "acoustic", "single")


@dataclass(frozen=True)
class TranscribeOptions:
    """Settings of :func:`transcribe_file`; the CLI and the app use these defaults.

    Build from a dict (YAML) with ``TranscribeOptions(**d)``.

    Attributes:
        model: Model folder, size name or Hub repo id; ``None`` searches (see
            :func:`analyzer.resources.resolve_model`).
        language: ``auto``, ``ru`` or ``en``.
        device: ``auto`` (CUDA when usable, else CPU, with a note), ``cpu``, ``cuda``.
        compute_type: CTranslate2 compute type; ``auto`` = int8 on CPU, float16 on CUDA.
        batch_size: Above 1, VAD chunks are transcribed in batches with
            ``faster_whisper.BatchedInferencePipeline`` (faster on GPU and long files).
        cpu_threads: CPU threads; 0 = one per physical core.
        beam_size: Beam search width.
        speakers: ``auto`` (by channel when each channel holds one speaker,
            else acoustic), ``channels``, ``acoustic`` or ``single``.
        vad_threshold: Speech probability above which Silero VAD counts a frame as speech.
        vad_min_silence_ms: A pause must last this long to split speech chunks
            (faster-whisper's default of 2000 ms keeps long pauses in; 500 ms follows
            FAILURE-MODES.md).
        vad_speech_pad_ms: Padding kept around each speech chunk so word edges are not cut.
        vad_min_speech_ms: Shorter speech chunks are dropped.
        vad_flag_share: Flag the transcript when VAD removed more than this share of the audio.
        condition_on_previous_text: Feed the previous window's text as a prompt
            (off: it makes loops and drifting timestamps likelier).
        no_speech_threshold: A segment is dropped when its no-speech probability
            is above this...
        log_prob_threshold: ...and its average token log-probability is below this.
        compression_ratio_threshold: A segment whose own text gzip-compresses
            better than this ratio is a loop and is dropped (Whisper's own fallback
            uses the same value).
        hallucination_silence_threshold_s: Skip silent stretches longer than this
            around a likely hallucination (needs word timestamps).
        loop_window: A sentence repeating any of this many previous kept segments is dropped...
        loop_min_words: ...when it has at least this many words.
        vocabulary: Terms passed as hotwords; ``None`` uses :data:`DOMAIN_VOCABULARY`
            when the language is forced to one of :data:`VOCABULARY_LANGUAGES`
            (``ru``); ``()`` disables them.
        initial_prompt: Optional prompt text (off by default: prompts can be
            echoed over silence).
        max_duration_s: Longest recording accepted.
    """

    model: str | None = None
    language: str = "auto"
    device: str = "auto"
    compute_type: str = "auto"
    batch_size: int = 1
    cpu_threads: int = 0
    beam_size: int = 5
    speakers: str = "auto"
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 500
    vad_speech_pad_ms: int = 300
    vad_min_speech_ms: int = 250
    vad_flag_share: float = 0.5
    condition_on_previous_text: bool = False
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    hallucination_silence_threshold_s: float | None = 2.0
    loop_window: int = 4
    loop_min_words: int = 3
    vocabulary: tuple[str, ...] | None = None
    initial_prompt: str | None = None
    max_duration_s: float = 4 * 3600.0

    def __post_init__(self) -> None:
        for name, value, choices in (("language", self.language, LANGUAGES),
                                     ("device", self.device, DEVICES),
                                     ("speakers", self.speakers, SPEAKER_MODES)):
            if value not in choices:
                raise AnalyzerError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        if self.batch_size < 1:
            raise AnalyzerError(f"batch_size must be 1 or more, not {self.batch_size}")
        if self.vocabulary is not None and not isinstance(self.vocabulary, tuple):
            object.__setattr__(self, "vocabulary", tuple(self.vocabulary))

    def hotwords(self, language: str | None) -> str | None:
        """The hotwords passed to faster-whisper when transcribing ``language``.

        An explicit ``vocabulary`` is always used. The default
        :data:`DOMAIN_VOCABULARY` is used only for the languages in
        :data:`VOCABULARY_LANGUAGES`: on the English sample interview with tiny.en
        the terms raised the word error rate from 0.12 to 0.16, cut the first
        words of the recording and were once read back over a silent tail.
        """
        if self.vocabulary is not None:
            terms = self.vocabulary
        elif language in VOCABULARY_LANGUAGES:
            terms = DOMAIN_VOCABULARY["shared"] + DOMAIN_VOCABULARY.get(language or "", ())
        else:
            terms = ()
        return ", ".join(terms) if terms else None

    def vad_options(self, *, max_speech_s: float = math.inf) -> Any:
        """faster-whisper ``VadOptions`` built from the ``vad_*`` fields."""
        from faster_whisper.vad import VadOptions

        return VadOptions(threshold=self.vad_threshold,
                          min_speech_duration_ms=self.vad_min_speech_ms,
                          min_silence_duration_ms=self.vad_min_silence_ms,
                          speech_pad_ms=self.vad_speech_pad_ms,
                          max_speech_duration_s=max_speech_s)


# --- pure conversion and guards -----------------------------------------------------------


def normalize_text(text: str) -> str:
    """Lower-case, ``ё``→``е``, punctuation to spaces, spaces collapsed."""
    text = text.lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def match_blocklist(text: str) -> str | None:
    """The id of the :data:`HALLUCINATION_PATTERNS` rule that the whole text matches, if any."""
    norm = normalize_text(text)
    for rule_id, pattern in _BLOCKLIST:
        if pattern.fullmatch(norm):
            return rule_id
    return None


def text_compression_ratio(text: str) -> float:
    """gzip compression ratio of a text, as Whisper computes it (loops compress well)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def filter_segments(segments: Iterable[Any], options: TranscribeOptions | None = None
                    ) -> tuple[list[Any], list[dict[str, Any]]]:
    """Drop segments that are likely invented; pure, works on any segment-like objects.

    Args:
        segments: Objects with ``start``, ``end``, ``text``, ``no_speech_prob``,
            ``avg_logprob`` (and optionally ``compression_ratio``, ``words``),
            like ``faster_whisper.transcribe.Segment``.
        options: Thresholds (``no_speech_threshold``, ``log_prob_threshold``,
            ``compression_ratio_threshold``, ``loop_window``, ``loop_min_words``).

    Returns:
        The kept segments, in order, and one ``{"start", "end", "text",
        "reason"}`` dict per dropped segment. Reasons: ``empty``, ``no_speech``,
        ``repetition`` (loops inside the segment), ``loop`` (repeats an earlier
        segment), ``prompt_echo`` (only vocabulary terms: the hotwords read
        back), ``blocklist:<rule id>``.
    """
    options = options or TranscribeOptions()
    kept: list[Any] = []
    dropped: list[dict[str, Any]] = []
    recent: list[str] = []
    vocabulary = _vocabulary_tokens(options)
    for seg in segments:
        text = (seg.text or "").strip()
        norm = normalize_text(text)
        reason = None
        if not norm:
            reason = "empty"
        elif (seg.no_speech_prob > options.no_speech_threshold
              and seg.avg_logprob < options.log_prob_threshold):
            reason = "no_speech"
        elif (len(norm.split()) >= 8
              and text_compression_ratio(norm) > options.compression_ratio_threshold):
            reason = "repetition"
        elif len(norm.split()) >= options.loop_min_words and norm in recent[-options.loop_window:]:
            reason = "loop"
        elif _is_prompt_echo(norm, vocabulary):
            reason = "prompt_echo"
        else:
            rule = match_blocklist(text)
            if rule is not None:
                reason = f"blocklist:{rule}"
        if reason is None:
            kept.append(seg)
            recent.append(norm)
        else:
            dropped.append({"start": _round(seg.start), "end": _round(seg.end), "text": text,
                            "reason": reason,
                            "no_speech_prob": _round(getattr(seg, "no_speech_prob", None)),
                            "avg_logprob": _round(getattr(seg, "avg_logprob", None))})
            logger.info("dropped segment %.1f-%.1f (%s): %s", seg.start, seg.end, reason, text[:80])
    return kept, dropped


def _vocabulary_tokens(options: TranscribeOptions) -> frozenset[str]:
    terms = (options.vocabulary if options.vocabulary is not None
             else [t for group in DOMAIN_VOCABULARY.values() for t in group])
    return frozenset(tok for term in terms for tok in normalize_text(term).split())


def _is_prompt_echo(norm: str, vocabulary: frozenset[str]) -> bool:
    # Whisper sometimes reads its hotwords back over a silent tail ("LTV, CRM, CRM, …").
    tokens = norm.split()
    return len(tokens) >= 3 and sum(t in vocabulary for t in tokens) >= 0.8 * len(tokens)


def segment_words(segment: Any) -> list[Word]:
    """The words of a faster-whisper segment as :class:`Word` records.

    Args:
        segment: A segment with ``words`` (objects with ``word``, ``start``,
            ``end``, ``probability``) or without them.

    Returns:
        Words with times and probabilities. A segment without word timestamps
        becomes one unit spanning the segment, with probability
        ``exp(avg_logprob)``.
    """
    words = getattr(segment, "words", None)
    if words:
        return [Word(text=w.word.strip(), start=_round(w.start), end=_round(w.end),
                     probability=_round(w.probability))
                for w in words if w.word.strip()]
    text = (segment.text or "").strip()
    if not text:
        return []
    return [Word(text=text, start=_round(segment.start), end=_round(segment.end),
                 probability=_round(math.exp(segment.avg_logprob)))]


def segments_to_transcript(segments: Iterable[Any], *, options: TranscribeOptions | None = None,
                           speaker: str = "SPEAKER_00", language: str | None = None,
                           source: str | None = None, duration_s: float | None = None) -> Transcript:
    """Convert segments of one speaker to a :class:`Transcript` (guards applied).

    Args:
        segments: faster-whisper segments (or fakes with the same attributes).
        options: Guard thresholds.
        speaker: Label of every turn.
        language: Language of the transcript.
        source: File the segments came from.
        duration_s: Length of the recording.

    Returns:
        One turn per run of kept segments, with words and confidence 1.0;
        ``metadata["dropped"]`` lists what the guards removed.
    """
    kept, dropped = filter_segments(segments, options)
    words = [w for seg in kept for w in segment_words(seg)]
    turns = words_to_turns(words, [speaker] * len(words), [1.0] * len(words))
    return Transcript(turns=turns, language=language, source=source, duration_s=duration_s,
                      metadata={"dropped": dropped})


# --- the pipeline ----------------------------------------------------------------------------


def transcribe_file(path: str | Path, options: TranscribeOptions | None = None,
                    progress: Progress | None = None, *, model: LoadedModel | Any | None = None
                    ) -> Transcript:
    """Transcribe a recording into turns of two anonymous speakers.

    Args:
        path: The recording (any format :func:`analyzer.audio.load_audio` reads).
        options: Settings; defaults to ``TranscribeOptions()``.
        progress: Called as ``progress(done_audio_s, total_audio_s)`` when
            segments arrive (total counts each transcribed channel).
        model: A :class:`~analyzer.resources.LoadedModel` or a WhisperModel-like
            object to use instead of loading ``options.model`` (the app's cache,
            tests' fakes).

    Returns:
        The transcript: turns labelled ``SPEAKER_00``/``SPEAKER_01`` with word
        times, word probabilities and a turn confidence; ``metadata`` records the
        model, the options, what the guards dropped and the VAD share removed.

    Raises:
        AudioError: the recording cannot be decoded or holds no speech.
        ModelNotAvailable: no usable model is on this machine.
    """
    options = options or TranscribeOptions()
    started = time.perf_counter()
    audio = load_audio(path, max_duration_s=options.max_duration_s)
    loaded = _as_loaded(model) if model is not None else load_speech_model(
        options.model, device=options.device, compute_type=options.compute_type,
        cpu_threads=options.cpu_threads, language=None if options.language == "auto" else options.language)
    language = None if options.language == "auto" else options.language
    if language == "ru" and loaded.english_only:
        raise ModelNotAvailable(
            f"model {loaded.path} is English-only and cannot transcribe Russian; "
            "pass a multilingual model, or run: interview-analyzer download-models small")

    by_channel = (audio.channels == 2 and options.speakers in ("auto", "channels")
                  and (options.speakers == "channels"
                       or detect_channel_speakers(audio.samples, audio.sampling_rate)))
    if by_channel:
        isolated = isolate_channels(audio.samples, audio.sampling_rate)
        tracks = [isolated[0], isolated[1]]
    else:
        tracks = [audio.mono]
    speech = [_speech_chunks(track, options) for track in tracks]
    speech_samples = sum(c["end"] - c["start"] for chunks in speech for c in chunks)
    if speech_samples == 0:
        raise AudioError("no speech found: voice activity detection heard none; "
                         "check that this is the interview recording", path)

    total_s = audio.duration_s * len(tracks)
    report = progress or (lambda done, total: None)
    report(0.0, total_s)
    info_language, language_probability = language, None
    channel_words: list[list[Word]] = []
    dropped: list[dict[str, Any]] = []
    for index, (track, chunks) in enumerate(zip(tracks, speech, strict=True)):
        if not chunks:  # never send a silent channel to the model
            channel_words.append([])
            continue
        segments, info = _run_model(loaded.model, track, options, info_language, chunks)
        if info_language is None:
            info_language, language_probability = info.language, round(info.language_probability, 3)
        offset = index * audio.duration_s
        kept, drops = filter_segments(_reporting(segments, report, offset, total_s), options)
        for d in drops:
            d["channel"] = index if by_channel else None
        dropped += drops
        channel_words.append([w for seg in kept for w in segment_words(seg)])
    report(total_s, total_s)

    if by_channel:
        words, attribution, crosstalk = attribute_channel_words(channel_words, audio.samples,
                                                                audio.sampling_rate)
        dropped += crosstalk
    else:
        words = channel_words[0]
        attribution = _attribute_mono(audio, words, options)
    turns = words_to_turns(words, attribution.labels, attribution.confidences)

    elapsed = time.perf_counter() - started
    metadata = _metadata(audio, loaded, options, speech, speech_samples, dropped, attribution,
                         elapsed, info_language, language_probability, by_channel)
    return Transcript(
        turns=turns,
        language=info_language if info_language in ("ru", "en") else None,
        source=str(path),
        duration_s=audio.duration_s,
        metadata=metadata,
    )


def _as_loaded(model: Any) -> LoadedModel:
    if isinstance(model, LoadedModel):
        return model
    inner = getattr(model, "model", None)
    multilingual = getattr(inner, "is_multilingual", True)
    return LoadedModel(model=model, path=type(model).__name__, device="unknown",
                       compute_type="unknown", cpu_threads=0, english_only=not multilingual)


def _speech_chunks(track: np.ndarray, options: TranscribeOptions) -> list[dict]:
    from faster_whisper.vad import get_speech_timestamps

    # Batched decoding takes each chunk as one window: none may pass Whisper's 30 s.
    return get_speech_timestamps(track, options.vad_options(max_speech_s=30.0) if options.batch_size > 1
                                 else options.vad_options())


def _run_model(model: Any, track: np.ndarray, options: TranscribeOptions, language: str | None,
               chunks: list[dict] | None = None):
    kwargs = dict(
        language=language,
        beam_size=options.beam_size,
        word_timestamps=True,
        condition_on_previous_text=options.condition_on_previous_text,
        no_speech_threshold=options.no_speech_threshold,
        log_prob_threshold=options.log_prob_threshold,
        compression_ratio_threshold=options.compression_ratio_threshold,
        hallucination_silence_threshold=options.hallucination_silence_threshold_s,
        hotwords=options.hotwords(language),
        initial_prompt=options.initial_prompt,
        vad_filter=True,
    )
    if options.batch_size > 1:
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(model=model)
        if chunks:
            # The speech found once already, as clips of at most Whisper's 30 s window:
            # no second VAD pass (on the sample: faster, and word error 0.13 instead of 0.16).
            return pipeline.transcribe(track, batch_size=options.batch_size, clip_timestamps=_clips(chunks, 30.0),
                                       **{k: v for k, v in kwargs.items() if k != "vad_filter"})
        return pipeline.transcribe(track, batch_size=options.batch_size,
                                   vad_parameters=options.vad_options(max_speech_s=30.0), **kwargs)
    if chunks and isinstance(model, _WhisperModel()):
        # The speech chunks were found once already (to refuse silence and to measure
        # what VAD removed): give faster-whisper only the speech, exactly as its own
        # vad_filter would, instead of running VAD a second time.
        from faster_whisper.transcribe import restore_speech_timestamps
        from faster_whisper.vad import collect_chunks

        # In blocks of at most BLOCK_SPEECH_S of speech: faster-whisper computes the
        # features of all the audio it is given at once (about 4 GB for an hour);
        # with condition_on_previous_text off, a block boundary at a pause changes nothing.
        blocks: list[list[dict]] = [[]]
        for chunk in chunks:
            if blocks[-1] and sum(c["end"] - c["start"] for c in blocks[-1]) + chunk["end"] - chunk["start"] > BLOCK_SPEECH_S * 16000:
                blocks.append([])
            blocks[-1].append(chunk)

        def run(block: list[dict], lang: str | None):
            pieces, _ = collect_chunks(track, block)
            segments, info = model.transcribe(np.concatenate(pieces), **{**kwargs, "language": lang, "vad_filter": False})
            return restore_speech_timestamps(segments, block, 16000), info

        first, info = run(blocks[0], language)

        def all_segments():
            yield from first
            for block in blocks[1:]:
                yield from run(block, info.language)[0]

        return all_segments(), info  # load_audio resamples to 16 kHz
    return model.transcribe(track, vad_parameters=options.vad_options(), **kwargs)


#: Speech per call of faster-whisper in sequential mode (bounds memory on long recordings).
BLOCK_SPEECH_S = 600.0


def _clips(chunks: list[dict], max_s: float, sampling_rate: int = 16000) -> list[dict[str, float]]:
    """Neighbouring speech chunks joined into clips no longer than ``max_s`` seconds."""
    clips: list[dict[str, float]] = []
    for chunk in chunks:
        if clips and (chunk["end"] - clips[-1]["start"] * sampling_rate) / sampling_rate <= max_s:
            clips[-1]["end"] = chunk["end"] / sampling_rate
        else:
            clips.append({"start": chunk["start"] / sampling_rate, "end": chunk["end"] / sampling_rate})
    return clips


def _WhisperModel() -> type:
    from faster_whisper import WhisperModel

    return WhisperModel


def _reporting(segments: Iterable[Any], report: Progress, offset: float, total: float) -> Iterator[Any]:
    for seg in segments:
        report(min(offset + float(seg.end), total), total)
        yield seg


def _attribute_mono(audio: DecodedAudio, words: list[Word], options: TranscribeOptions) -> Attribution:
    if options.speakers == "single" or not words:
        return Attribution(("SPEAKER_00",) * len(words), (1.0,) * len(words), "single", {})
    pipeline_dir = pyannote_pipeline_path()
    if pipeline_dir is not None:
        return diarize_words_pyannote(audio.mono, audio.sampling_rate, words, pipeline_dir)
    return diarize_words(audio.mono, audio.sampling_rate, words)


def _metadata(audio, loaded, options, speech, speech_samples, dropped, attribution, elapsed,
              language, language_probability, by_channel) -> dict[str, Any]:
    sr = audio.sampling_rate
    tracks = len(speech)
    removed = 1.0 - speech_samples / max(audio.samples.shape[1] * tracks, 1)
    notes = list(audio.notes)
    if loaded.note:
        notes.append(loaded.note)
    # Per channel, most of a channel is the other speaker's time, so the flag
    # looks at the whole conversation: the union of both channels' speech.
    union_removed = _union_removed_share(speech, audio.samples.shape[1]) if tracks > 1 else removed
    flagged = union_removed > options.vad_flag_share
    if flagged:
        notes.append(f"voice activity detection removed {union_removed:.0%} of the audio; "
                     "check that no speech was cut")
    return {
        "transcriber": "faster-whisper",
        "model": {"path": loaded.path, "device": loaded.device, "compute_type": loaded.compute_type,
                  "cpu_threads": loaded.cpu_threads, "english_only": loaded.english_only},
        "detected_language": language,
        "language_probability": language_probability,
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()},
        "hotwords": options.hotwords(language),
        "audio": {"channels": audio.channels, "source_channels": audio.source_channels,
                  "source_rate_hz": audio.source_rate_hz, "header_duration_s": audio.header_duration_s},
        "speakers": {"method": attribution.method, "by_channel": by_channel, **attribution.details},
        "vad": {"speech_s": round(speech_samples / sr, 2), "removed_share": round(union_removed, 3),
                "flagged": flagged},
        "dropped": dropped,
        "notes": notes,
        "elapsed_s": round(elapsed, 2),
        "real_time_factor": round(elapsed / max(audio.duration_s, 1e-9), 3),
    }


def _union_removed_share(speech: list[list[dict]], n: int) -> float:
    mask = np.zeros(n, dtype=bool)
    for chunks in speech:
        for c in chunks:
            mask[c["start"]: c["end"]] = True
    return 1.0 - float(mask.mean()) if n else 0.0


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


__all__ = [
    "DOMAIN_VOCABULARY", "HALLUCINATION_PATTERNS", "TranscribeOptions", "filter_segments",
    "match_blocklist", "normalize_text", "segment_words", "segments_to_transcript",
    "text_compression_ratio", "transcribe_file",
]
