"""Decode and validate recordings with PyAV; mix and split stereo channels.

Every recording goes through :func:`load_audio` before a model sees it, so the
failures that PyAV reports badly (a bare ``IndexError`` for a video without an
audio track, silently short audio from a truncated file, a mono downmix of
anti-phase channels that is all zeros) become one-line :class:`AudioError`
messages that name the file. See ``FAILURE-MODES.md`` ("Decoding recordings").

Example:
    >>> import numpy as np
    >>> left = np.sin(np.linspace(0, 200, 16000)).astype(np.float32)
    >>> detect_channel_relation(np.stack([left, -left]))
    'anti_phase'
    >>> float(np.abs(mixdown(np.stack([left, -left])) - left).max())
    0.0
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analyzer.errors import AudioError

logger = logging.getLogger("analyzer")

#: Shortest recording accepted, in seconds: below this there is no answer to analyse.
MIN_DURATION_S = 1.0
#: Longest recording accepted by default (4 hours).
MAX_DURATION_S = 4 * 3600.0
#: Lowest source sampling rate accepted (telephone audio is 8 kHz).
MIN_SOURCE_RATE_HZ = 8000
#: A recording whose loudest 50 ms frame is below this level is taken as silence.
SILENCE_DBFS = -60.0
#: A mono downmix quieter than the loudest channel by more than this means the
#: channels cancel (anti-phase); the loudest channel is used instead.
CANCEL_DB = 12.0
#: A channel this much quieter than the other is taken as empty.
EMPTY_CHANNEL_DB = 40.0
#: Decoded audio shorter than the header's duration by more than this share
#: (and by more than ``_MISMATCH_MIN_S``) means the file is truncated or damaged.
MISMATCH_SHARE = 0.10
_MISMATCH_MIN_S = 1.0
#: More undecodable packets than this share means the file is corrupt.
_BAD_PACKET_SHARE = 0.05

_FRAME_S = 0.05


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded, validated recording.

    Attributes:
        samples: float32 array shaped ``(channels, n)`` in -1..1, resampled to
            ``sampling_rate``. One or two channels (sources with more are
            downmixed to stereo by FFmpeg).
        sampling_rate: Samples per second of ``samples`` (Hz).
        duration_s: Decoded length in seconds.
        channels: Number of rows of ``samples`` (1 or 2).
        source: The file it was decoded from.
        header_duration_s: The length the container claims, in seconds (``None``
            when the container does not say).
        source_channels: Channel count of the source stream.
        source_rate_hz: Sampling rate of the source stream.
        notes: What was repaired while decoding (e.g. anti-phase channels),
            one short sentence each; transcription copies them to its metadata.
    """

    samples: np.ndarray = field(repr=False, compare=False)
    sampling_rate: int
    duration_s: float
    channels: int
    source: str
    header_duration_s: float | None = None
    source_channels: int = 1
    source_rate_hz: int = 0
    notes: tuple[str, ...] = ()

    @functools.cached_property
    def mono(self) -> np.ndarray:
        """The recording as one channel (see :func:`mixdown`), computed once."""
        return mixdown(self.samples)


def load_audio(
    path: str | Path,
    *,
    sampling_rate: int = 16000,
    max_duration_s: float = MAX_DURATION_S,
    keep_channels: bool = True,
    min_duration_s: float = MIN_DURATION_S,
) -> DecodedAudio:
    """Decode a recording and check that it can hold speech.

    Reads wav, mp3, m4a/aac, ogg/opus, flac, webm and the audio track of mp4/mkv,
    mono or stereo, 8–48 kHz, and resamples it to ``sampling_rate``.

    Args:
        path: The recording.
        sampling_rate: Rate of the returned samples in Hz (16000 for Whisper).
        max_duration_s: Longest recording accepted, in seconds.
        keep_channels: Keep two channels of a stereo source (for speaker
            separation by channel); ``False`` mixes down to one channel with the
            anti-phase guard of :func:`mixdown`.
        min_duration_s: Shortest recording accepted, in seconds.

    Returns:
        The decoded audio.

    Raises:
        AudioError: the file is missing, empty, not media, truncated or corrupt,
            has no audio track, is too short or too long, is pure silence, or
            decodes to much less audio than its header announces.
    """
    import av  # heavy import only when a file is decoded

    path = Path(path)
    if not path.exists():
        raise AudioError("file not found; check the path", path)
    if path.is_dir():
        raise AudioError("is a folder, not a recording", path)
    if path.stat().st_size == 0:
        raise AudioError("file is empty (0 bytes); export the recording again", path)

    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(
            f"not a readable audio or video file ({_one_line(exc)}); "
            "convert it to wav, mp3, m4a, ogg, flac or webm",
            path,
        ) from None

    with container:
        if not container.streams.audio:
            what = "a video without an audio track" if container.streams.video else "no audio track"
            raise AudioError(f"holds {what}; export the recording with its sound", path)
        stream = container.streams.audio[0]
        source_rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        source_channels = int(stream.codec_context.channels or 0) or 1
        header_s = _header_duration_s(container, stream)
        if source_rate and source_rate < MIN_SOURCE_RATE_HZ:
            raise AudioError(
                f"sampling rate {source_rate} Hz is below {MIN_SOURCE_RATE_HZ} Hz; "
                "speech recognition needs at least telephone quality",
                path,
            )
        if header_s is not None and header_s > max_duration_s:
            raise AudioError(
                f"is {_fmt_s(header_s)} long, over the limit of {_fmt_s(max_duration_s)}; "
                "split it or raise the limit",
                path,
            )
        layout = "mono" if source_channels == 1 else "stereo"
        samples, bad, total = _decode(container, stream, av, layout, sampling_rate, max_duration_s, path)

    if total and bad / total > _BAD_PACKET_SHARE:
        raise AudioError(
            f"is corrupt: {bad} of {total} audio packets cannot be decoded; export it again",
            path,
        )
    duration_s = samples.shape[1] / sampling_rate
    if samples.shape[1] == 0:
        raise AudioError("is truncated or corrupt: no audio could be decoded; export it again", path)
    if header_s is not None and header_s - duration_s > max(_MISMATCH_MIN_S, MISMATCH_SHARE * header_s):
        raise AudioError(
            f"decoded only {_fmt_s(duration_s)} of the {_fmt_s(header_s)} its header announces; "
            "the file is truncated or damaged, export it again",
            path,
        )
    if header_s is not None and duration_s - header_s > max(_MISMATCH_MIN_S, MISMATCH_SHARE * header_s):
        # Longer than announced loses nothing; headers estimated from the bitrate
        # (VBR mp3 without a Xing header) are often wrong this way.
        logger.warning("%s: decoded %.1f s, header says %.1f s", path, duration_s, header_s)
    if duration_s < min_duration_s:
        raise AudioError(
            f"is only {duration_s:.2f} s long; at least {min_duration_s:g} s of speech is needed",
            path,
        )
    if duration_s > max_duration_s:
        raise AudioError(
            f"is longer than the limit of {_fmt_s(max_duration_s)}; split it or raise the limit", path
        )
    if _peak_dbfs(samples, sampling_rate) < SILENCE_DBFS:
        raise AudioError("no speech found: the recording is silent", path)

    notes: list[str] = []
    relation = detect_channel_relation(samples)
    if relation == "anti_phase":
        notes.append(
            "the two channels are in anti-phase (a mono downmix cancels); one channel is used"
        )
    if not keep_channels and samples.shape[0] > 1:
        samples = mixdown(samples)[np.newaxis, :]
    elif relation in {"anti_phase", "duplicate", "one_empty"}:
        # Not two separate speakers: keep the one channel that carries the sound,
        # so later stages never split identical channels or cancel them.
        samples = mixdown(samples)[np.newaxis, :]
        if relation == "one_empty":
            notes.append("one channel is empty; the other is used")

    return DecodedAudio(
        samples=np.ascontiguousarray(samples, dtype=np.float32),
        sampling_rate=sampling_rate,
        duration_s=round(duration_s, 3),
        channels=int(samples.shape[0]),
        source=str(path),
        header_duration_s=None if header_s is None else round(header_s, 3),
        source_channels=source_channels,
        source_rate_hz=source_rate,
        notes=tuple(notes),
    )


def detect_channel_relation(samples: np.ndarray) -> str:
    """Say how the channels of a recording relate.

    Args:
        samples: Array shaped ``(channels, n)`` or ``(n,)``.

    Returns:
        ``"mono"`` (one channel), ``"one_empty"`` (one channel is
        ``EMPTY_CHANNEL_DB`` quieter than the other), ``"duplicate"`` (the same
        signal twice), ``"anti_phase"`` (the downmix cancels by more than
        ``CANCEL_DB``), or ``"separate"`` (different content, e.g. one speaker
        per channel, or a stereo room recording).
    """
    if samples.ndim == 1 or samples.shape[0] == 1:
        return "mono"
    left, right = samples[0].astype(np.float64), samples[1].astype(np.float64)
    rms_l, rms_r = _rms(left), _rms(right)
    loud = max(rms_l, rms_r)
    if loud == 0.0:
        return "duplicate"
    if min(rms_l, rms_r) < loud * 10 ** (-EMPTY_CHANNEL_DB / 20):
        return "one_empty"
    if _rms((left + right) / 2) < loud * 10 ** (-CANCEL_DB / 20):
        return "anti_phase"
    corr = float(np.dot(left, right) / (np.sqrt(np.dot(left, left) * np.dot(right, right))))
    if corr > 0.9:
        return "duplicate"
    return "separate"


def mixdown(samples: np.ndarray) -> np.ndarray:
    """Mix channels to one, without letting anti-phase channels cancel.

    A plain average of channels in anti-phase (one wired with inverted
    polarity) is all zeros. When the average is more than ``CANCEL_DB`` quieter
    than the loudest channel, that channel is returned instead of the average;
    so is the louder channel when the other one is empty.

    Args:
        samples: Array shaped ``(channels, n)`` or ``(n,)``.

    Returns:
        A float32 array shaped ``(n,)``.
    """
    if samples.ndim == 1:
        return samples.astype(np.float32, copy=False)
    if samples.shape[0] == 1:
        return samples[0].astype(np.float32, copy=False)
    relation = detect_channel_relation(samples)
    if relation in {"anti_phase", "one_empty"}:
        loudest = int(np.argmax([_rms(ch) for ch in samples]))
        logger.info("mixdown: channels %s, using channel %d", relation, loudest)
        return samples[loudest].astype(np.float32, copy=True)
    return samples.mean(axis=0).astype(np.float32)


def frame_rms(signal: np.ndarray, sampling_rate: int, frame_s: float = _FRAME_S) -> np.ndarray:
    """RMS of consecutive non-overlapping frames of a one-channel signal.

    Args:
        signal: Array shaped ``(n,)``.
        sampling_rate: Samples per second.
        frame_s: Frame length in seconds.

    Returns:
        Array of ``n // frame`` RMS values (the tail shorter than a frame is dropped).
    """
    hop = max(1, int(round(frame_s * sampling_rate)))
    n = signal.shape[-1] // hop
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    frames = signal[..., : n * hop].reshape(*signal.shape[:-1], n, hop).astype(np.float32)
    return np.sqrt(np.mean(frames * frames, axis=-1))


def _decode(container, stream, av, layout, sampling_rate, max_duration_s, path):
    resampler = av.audio.resampler.AudioResampler(format="fltp", layout=layout, rate=sampling_rate)
    fifo = av.audio.fifo.AudioFifo()
    chunks: list[np.ndarray] = []
    decoded = 0
    limit = int((max_duration_s + 60) * sampling_rate)
    bad = total = 0

    def drain(frames):
        nonlocal decoded
        for out in frames:
            array = out.to_ndarray()  # planar float: (channels, n)
            chunks.append(array if array.ndim == 2 else array[np.newaxis, :])
            decoded += array.shape[-1]

    try:
        for packet in container.demux(stream):
            if packet.size == 0 and packet.pts is None:
                continue  # the demuxer's final flush packet
            total += 1
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                bad += 1
                continue
            for frame in frames:
                frame.pts = None  # resampling must not trip over broken timestamps
                fifo.write(frame)
                if fifo.samples >= 262144:
                    drain(resampler.resample(fifo.read()))
            if decoded > limit:
                raise AudioError(
                    f"is longer than the limit of {_fmt_s(max_duration_s)}; split it or raise the limit",
                    path,
                )
        if fifo.samples:
            drain(resampler.resample(fifo.read()))
        drain(resampler.resample(None))
    except av.error.FFmpegError as exc:
        raise AudioError(f"is truncated or corrupt ({_one_line(exc)}); export it again", path) from None
    channels = 1 if layout == "mono" else 2
    if not chunks:
        return np.zeros((channels, 0), dtype=np.float32), bad, total
    return np.concatenate(chunks, axis=1).astype(np.float32, copy=False), bad, total


def _header_duration_s(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        value = float(stream.duration * stream.time_base)
        if value > 0:
            return value
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000  # av.time_base
    return None


def _peak_dbfs(samples: np.ndarray, sampling_rate: int) -> float:
    rms = frame_rms(samples, sampling_rate)
    peak = float(rms.max()) if rms.size else 0.0
    if peak <= 0.0:
        # Shorter than one frame: fall back to the sample peak.
        peak = float(np.abs(samples).max()) if samples.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def _fmt_s(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _one_line(exc: BaseException) -> str:
    # FFmpeg errors repeat the file name after the reason; the reason is enough.
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())[:200] or type(exc).__name__
