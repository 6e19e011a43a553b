"""Who speaks when: attribute recognised words to two anonymous speakers.

Two ways, chosen per recording by :func:`detect_channel_speakers`:

- **By channel** (stereo with one speaker per channel, e.g. a call recorder or a
  two-headset setup): each channel is transcribed on its own, so every word
  belongs to its channel's speaker. A word that is only crosstalk (much louder in
  the other channel, where the same word was also recognised) is dropped.
- **Acoustically** (mono, or stereo that is not one speaker per channel):
  words are grouped into short pieces at pauses and sentence ends; each piece is
  described by the mean and spread of its MFCCs (log-mel cepstra, computed with
  numpy); the pieces are clustered into two groups with scikit-learn; every word
  takes its piece's group, so speaker changes fall on word boundaries. When the
  two groups are not distinct, the recording is taken as one speaker.

Labels are anonymous (``SPEAKER_00`` speaks first). Features live only while a
recording is processed: no voiceprint is kept or compared across interviews
(see the law and ethics notes in FAILURE-MODES.md). An optional pyannote backend
is used only when ``pyannote.audio`` is importable *and* a local pipeline folder
is configured; it is never required.

Example:
    >>> from analyzer.records import Word
    >>> words = [Word("Hi.", 0.0, 0.4), Word("Hello", 0.9, 1.3), Word("there.", 1.3, 1.6)]
    >>> labels = ["SPEAKER_00", "SPEAKER_01", "SPEAKER_01"]
    >>> [(t.speaker, t.text) for t in words_to_turns(words, labels, [1.0, 0.9, 0.7])]
    [('SPEAKER_00', 'Hi.'), ('SPEAKER_01', 'Hello there.')]
"""

from __future__ import annotations

import functools
import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from analyzer.audio import frame_rms
from analyzer.records import Turn, Word

logger = logging.getLogger("analyzer")

#: Environment variable naming a local pyannote pipeline folder (optional backend).
ENV_PYANNOTE = "INTERVIEW_ANALYZER_PYANNOTE"


@dataclass(frozen=True)
class SpeakerOptions:
    """Settings of speaker attribution (units in the names).

    Attributes:
        channel_dominance_db: In a channel-per-speaker recording the active
            channel is louder than the other by at least this much.
        channel_dominance_share: ...in at least this share of the active frames.
        crosstalk_db: A word whose channel is this much quieter than the other
            channel, while the other channel has the same word, is crosstalk.
        isolate_attenuation_db: How much quieter crosstalk-only stretches of a
            channel are made before that channel is transcribed.
        piece_max_s: Longest piece of speech described by one feature vector.
        piece_pause_s: A pause this long between words starts a new piece.
        piece_min_frames: Pieces with fewer speech frames (10 ms each) are not
            used to fit the clusters; they take the nearest cluster.
        min_speaker_share: A cluster with less than this share of the speech
            time is taken as noise in one speaker's voice, and the recording as
            one speaker. (A silhouette threshold could not tell one synthetic
            voice from two on our test voices, so mono audio is otherwise
            always split in two: interviews have two speakers.)
        min_pieces: With fewer fitting pieces (about 10 s of speech) the
            recording is taken as one speaker: too little to tell voices apart.
        smooth_max_s: A piece shorter than this, whose label differs from both
            (agreeing) neighbours and whose confidence is below
            ``smooth_max_confidence``, takes the neighbours' label.
    """

    channel_dominance_db: float = 6.0
    channel_dominance_share: float = 0.6
    crosstalk_db: float = 12.0
    isolate_attenuation_db: float = 40.0
    piece_max_s: float = 2.0
    piece_pause_s: float = 0.25
    piece_min_frames: int = 30
    min_speaker_share: float = 0.05
    min_pieces: int = 8
    smooth_max_s: float = 1.0
    smooth_max_confidence: float = 0.75


@dataclass(frozen=True)
class Attribution:
    """Speaker labels of a word sequence.

    Attributes:
        labels: One label per word (``SPEAKER_00``, ``SPEAKER_01``).
        confidences: One value per word in 0.5..1: how clearly the word's piece
            belongs to its speaker (1.0 for channel attribution).
        method: ``channels``, ``acoustic``, ``single`` or ``pyannote``.
        details: Figures for the transcript metadata (never features).
    """

    labels: tuple[str, ...]
    confidences: tuple[float, ...]
    method: str
    details: dict = field(default_factory=dict, compare=False)


# --- channel-per-speaker recordings ----------------------------------------------------


def detect_channel_speakers(samples: np.ndarray, sampling_rate: int,
                            options: SpeakerOptions | None = None) -> bool:
    """Whether a two-channel recording has one speaker per channel.

    In such a recording, whenever someone speaks one channel is clearly louder
    than the other, and each channel is the loud one part of the time. In a room
    recorded in stereo both channels carry every voice at similar levels.

    Args:
        samples: Array shaped ``(channels, n)``.
        sampling_rate: Samples per second.
        options: Thresholds (``channel_dominance_db``, ``channel_dominance_share``).

    Returns:
        True when the channels can be attributed to two speakers.
    """
    options = options or SpeakerOptions()
    if samples.ndim != 2 or samples.shape[0] != 2:
        return False
    level = 20 * np.log10(frame_rms(samples, sampling_rate) + 1e-9)  # (2, frames)
    loudest = level.max(axis=0)
    # Someone speaks in frames within 35 dB of the loud speech (works with or without pauses).
    active = loudest > max(float(np.percentile(loudest, 95)) - 35.0, -55.0)
    if active.sum() < 10:
        return False
    diff = level[0, active] - level[1, active]
    dominant = np.abs(diff) >= options.channel_dominance_db
    left_share = float(np.mean(diff >= options.channel_dominance_db))
    right_share = float(np.mean(diff <= -options.channel_dominance_db))
    return bool(dominant.mean() >= options.channel_dominance_share
                and min(left_share, right_share) >= 0.05)


def isolate_channels(samples: np.ndarray, sampling_rate: int,
                     options: SpeakerOptions | None = None, *, frame_s: float = 0.05,
                     keep_s: float = 0.3) -> np.ndarray:
    """Silence each channel where it only carries the other channel's crosstalk.

    Voice activity detection does not care how loud a voice is, so a -30 dB
    echo of the other speaker would be transcribed twice. A channel is kept
    only within ``keep_s`` of its own speech: frames above its noise floor and
    no more than ``crosstalk_db`` quieter than the other channel. The rest is
    attenuated by ``isolate_attenuation_db``. Overlapping speech, loud in both
    channels, is kept in both. (Attenuated, not zeroed: with digital silence
    inside speech chunks Whisper fell back to sampling more often, which took
    twice as long on the stereo sample for the same text.)

    Args:
        samples: Two channels, shaped ``(2, n)``.
        sampling_rate: Samples per second.
        options: ``crosstalk_db``.

    Returns:
        A copy of ``samples`` with crosstalk-only stretches attenuated.
    """
    options = options or SpeakerOptions()
    hop = int(frame_s * sampling_rate)
    level = 20 * np.log10(frame_rms(samples, sampling_rate, frame_s) + 1e-9)
    out = samples.copy()
    grow = max(1, int(round(keep_s / frame_s)))
    kernel = np.ones(2 * grow + 1)
    for channel in (0, 1):
        floor = np.percentile(level[channel], 10)
        active = level[channel] > max(floor + 10.0, -60.0)
        own = active & (level[channel] >= level[1 - channel] - options.crosstalk_db)
        keep = np.convolve(own.astype(float), kernel, mode="same") > 0
        mask = np.repeat(keep, hop)
        mask = np.concatenate([mask, np.full(samples.shape[1] - mask.size, keep[-1] if keep.size else True)])
        out[channel, ~mask] *= 10 ** (-options.isolate_attenuation_db / 20)
    return out


def attribute_channel_words(
    channel_words: Sequence[Sequence[Word]],
    samples: np.ndarray,
    sampling_rate: int,
    options: SpeakerOptions | None = None,
    *,
    max_pause_s: float = 1.0,
) -> tuple[list[Word], Attribution, list[dict]]:
    """Merge the words recognised in each channel into one attributed sequence.

    Each channel's words are grouped into utterances (split at pauses over
    ``max_pause_s``) and the utterances are put in order of their start, so
    overlapping speech gives two overlapping turns instead of words interleaved
    one by one.

    Args:
        channel_words: Words recognised in channel 0 and in channel 1.
        samples: The two channels, shaped ``(2, n)``.
        sampling_rate: Samples per second.
        options: ``crosstalk_db``.
        max_pause_s: A longer pause inside one channel ends an utterance.

    Returns:
        The words of both channels in order, their attribution, and the
        words dropped as crosstalk (``{"start", "end", "text", "reason"}``).
    """
    options = options or SpeakerOptions()
    tagged: list[tuple[float, int, Word, float]] = []  # (utterance start, channel, word, confidence)
    dropped: list[dict] = []
    for channel, words in enumerate(channel_words):
        other = 1 - channel
        utterance_start, last_end = None, None
        for word in words:
            own_db, other_db = _span_db(samples, sampling_rate, word.start, word.end, channel)
            margin = own_db - other_db
            if margin < -options.crosstalk_db and _has_same_word(channel_words[other], word):
                dropped.append({"start": word.start, "end": word.end, "text": word.text,
                                "reason": "crosstalk", "channel": channel})
                continue
            start = word.start if word.start is not None else (last_end or 0.0)
            if utterance_start is None or (last_end is not None and start - last_end > max_pause_s):
                utterance_start = start
            last_end = word.end if word.end is not None else start
            # Overlapping speech or a quiet word next to a loud other channel is
            # still this channel's speaker, but less certainly so.
            confidence = 1.0 if margin >= 0 else float(np.clip(1.0 + margin / 40.0, 0.6, 1.0))
            tagged.append((utterance_start, channel, word, round(confidence, 3)))
    tagged.sort(key=lambda item: (item[0], item[1]))  # stable: word order kept inside utterances
    first_channel = tagged[0][1] if tagged else 0
    labels = tuple(f"SPEAKER_{0 if ch == first_channel else 1:02d}" for _, ch, _, _ in tagged)
    attribution = Attribution(
        labels=labels,
        confidences=tuple(c for _, _, _, c in tagged),
        method="channels",
        details={"first_channel": first_channel, "crosstalk_dropped": len(dropped)},
    )
    return [w for _, _, w, _ in tagged], attribution, dropped


def _span_db(samples: np.ndarray, sr: int, start: float | None, end: float | None,
             channel: int) -> tuple[float, float]:
    """Level in dBFS of ``channel`` and of the other channel over a word's span."""
    if start is None or end is None:
        return 0.0, 0.0
    a, b = int(start * sr), max(int(end * sr), int(start * sr) + 1)
    span = samples[:, a:b].astype(np.float64)
    if span.shape[1] == 0:
        return 0.0, 0.0
    rms = np.sqrt(np.mean(span * span, axis=1)) + 1e-9
    return float(20 * np.log10(rms[channel])), float(20 * np.log10(rms[1 - channel]))


def _norm_word(text: str) -> str:
    return re.sub(r"[^\w']", "", text.lower())


def _has_same_word(words: Sequence[Word], word: Word, slack_s: float = 0.5) -> bool:
    target = _norm_word(word.text)
    return any(
        _norm_word(w.text) == target
        and w.start is not None and word.start is not None
        and w.start - slack_s <= word.end and word.start <= w.end + slack_s
        for w in words
    )


# --- one channel: acoustic clustering --------------------------------------------------


def diarize_words(
    samples: np.ndarray,
    sampling_rate: int,
    words: Sequence[Word],
    options: SpeakerOptions | None = None,
) -> Attribution:
    """Split the words of a one-channel recording between two anonymous speakers.

    Args:
        samples: One channel, shaped ``(n,)``.
        sampling_rate: Samples per second.
        words: Recognised words with times, in order.
        options: Clustering settings.

    Returns:
        One label and confidence per word. ``method`` is ``single`` when the
        recording sounds like one speaker (all ``SPEAKER_00``).
    """
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    options = options or SpeakerOptions()
    n = len(words)
    if n == 0:
        return Attribution((), (), "single", {"pieces": 0})
    pieces = split_pieces(words, options)
    mfcc, energy = mfcc_frames(samples, sampling_rate)
    feats, frames = _piece_features(pieces, words, mfcc, energy)
    fit = np.array([f >= options.piece_min_frames for f in frames])
    single = Attribution(("SPEAKER_00",) * n, (1.0,) * n, "single", {"pieces": len(pieces)})
    if fit.sum() < options.min_pieces:
        return single  # too little speech to tell voices apart

    x = StandardScaler().fit(feats[fit]).transform(feats)
    centroids = _two_centroids(x[fit])
    dist = np.linalg.norm(x[:, None, :] - centroids[None, :, :], axis=2)
    assign = dist.argmin(axis=1)

    durations = np.array([p[2] - p[1] for p in pieces])
    share = min(durations[assign == k].sum() for k in (0, 1)) / max(durations.sum(), 1e-9)
    labels_fit = assign[fit]
    silhouette = (float(silhouette_score(x[fit], labels_fit, sample_size=min(int(fit.sum()), 2000), random_state=0))
                  if len(set(labels_fit.tolist())) == 2 and fit.sum() > 2 else 0.0)
    details = {"pieces": len(pieces), "silhouette": round(silhouette, 3),
               "minor_speaker_share": round(float(share), 3)}
    if share < options.min_speaker_share:
        return Attribution(single.labels, single.confidences, "single", details)

    d_own = dist[np.arange(len(pieces)), assign]
    d_other = dist[np.arange(len(pieces)), 1 - assign]
    conf = 0.5 + 0.5 * np.clip(2 * (d_other - d_own) / (d_other + d_own + 1e-9), 0.0, 1.0)
    assign, conf = _smooth(assign, conf, durations, options)

    first = assign[0]
    piece_labels = [f"SPEAKER_{0 if a == first else 1:02d}" for a in assign]
    labels: list[str] = [""] * n
    confidences: list[float] = [0.0] * n
    for (indices, _, _), label, c in zip(pieces, piece_labels, conf, strict=True):
        for i in indices:
            labels[i], confidences[i] = label, round(float(c), 3)
    details["changes"] = int(sum(a != b for a, b in zip(piece_labels, piece_labels[1:], strict=False)))
    return Attribution(tuple(labels), tuple(confidences), "acoustic", details)


def _two_centroids(x: np.ndarray) -> np.ndarray:
    """Centroids of a two-way split of standardised piece features.

    Spectral clustering on a k-nearest-neighbour graph follows the shape of each
    voice's cloud and is not pulled apart by a few outlying pieces, which made
    Ward and k-means split off outliers instead of speakers on our synthetic
    voices (see ``tests/test_speakers.py``). On long recordings a small
    neighbourhood leaves the graph in pieces and spectral clustering splits off
    one of them (an hour-long interview came out 99% one speaker), so the
    neighbourhood grows with the number of pieces, and k-means competes: the
    split with the better silhouette wins. Few pieces: Ward.
    """
    from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
    from sklearn.metrics import silhouette_score

    if len(x) < 12:
        labels = AgglomerativeClustering(n_clusters=2, linkage="ward").fit_predict(x)
    else:
        neighbours = max(3, min(10, len(x) // 4)) if len(x) < 400 else int(np.sqrt(len(x)))
        graph = SpectralClustering(n_clusters=2, affinity="nearest_neighbors", n_neighbors=neighbours, random_state=0)
        with warnings.catch_warnings():
            # A graph in two parts is what two distinct voices look like.
            warnings.filterwarnings("ignore", message="Graph is not fully connected")
            candidates = [graph.fit_predict(x)]
        candidates.append(KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(x))
        sample = min(len(x), 2000)

        def quality(labels: np.ndarray) -> float:
            if len(set(labels.tolist())) < 2 or min(np.bincount(labels)) < 0.05 * len(labels):
                return -1.0  # a sliver of outliers is no second voice
            return float(silhouette_score(x, labels, sample_size=sample, random_state=0))

        labels = max(candidates, key=quality)
    if min((labels == k).sum() for k in (0, 1)) == 0:
        labels = np.arange(len(x)) % 2
    return np.stack([x[labels == k].mean(axis=0) for k in (0, 1)])


def split_pieces(words: Sequence[Word], options: SpeakerOptions | None = None
                 ) -> list[tuple[list[int], float, float]]:
    """Group consecutive words into pieces that likely have one speaker.

    A piece ends at a pause of ``piece_pause_s``, after a word that ends a
    sentence, or when it reaches ``piece_max_s``. Words without times join the
    current piece.

    Args:
        words: Words with times, in order.
        options: ``piece_pause_s``, ``piece_max_s``.

    Returns:
        ``[(word indices, start_s, end_s), ...]``.
    """
    options = options or SpeakerOptions()
    pieces: list[tuple[list[int], float, float]] = []
    current: list[int] = []
    start = end = 0.0
    for i, word in enumerate(words):
        w_start = word.start if word.start is not None else end
        w_end = word.end if word.end is not None else w_start
        if current and (w_start - end >= options.piece_pause_s or w_end - start > options.piece_max_s):
            pieces.append((current, start, end))
            current = []
        if not current:
            start = w_start
        current.append(i)
        end = max(end, w_end)
        if re.search(r"[.?!…]$", word.text.strip()):
            pieces.append((current, start, end))
            current = []
    if current:
        pieces.append((current, start, end))
    return pieces


def mfcc_frames(samples: np.ndarray, sampling_rate: int, *, n_mels: int = 40, n_mfcc: int = 20,
                win_s: float = 0.025, hop_s: float = 0.010) -> tuple[np.ndarray, np.ndarray]:
    """MFCCs of 25 ms frames every 10 ms (numpy only).

    Args:
        samples: One channel, shaped ``(n,)``.
        sampling_rate: Samples per second.
        n_mels: Mel bands between 60 Hz and 0.95 × Nyquist.
        n_mfcc: Cepstral coefficients kept, c0 (loudness) excluded.

    Returns:
        ``(mfcc, log_energy)``: arrays shaped ``(frames, n_mfcc)`` and ``(frames,)``;
        frame ``i`` starts at ``i * hop_s`` seconds.
    """
    from scipy.fft import dct

    from scipy.fft import rfft

    win, hop = int(win_s * sampling_rate), int(hop_s * sampling_rate)
    x = np.asarray(samples, dtype=np.float32)
    if x.size < win:
        return np.zeros((0, n_mfcc), np.float32), np.zeros(0, np.float32)
    x = np.append(x[0], x[1:] - np.float32(0.97) * x[:-1])  # pre-emphasis
    n_fft = 1 << (win - 1).bit_length()
    window = np.hamming(win).astype(np.float32)
    bank = _mel_filterbank(sampling_rate, n_fft, n_mels).T.astype(np.float32)
    view = np.lib.stride_tricks.sliding_window_view(x, win)[::hop]
    cepstra = np.empty((len(view), n_mfcc), np.float32)
    energy = np.empty(len(view), np.float32)
    # In blocks, in float32: an hour of audio is 360,000 frames, and one pass over
    # all of them at once held several GB of spectra.
    block = 8192
    for a in range(0, len(view), block):
        power = np.abs(rfft(view[a : a + block] * window, n=n_fft, axis=1)) ** 2
        log_mel = np.log(power @ bank + np.float32(1e-10))
        cepstra[a : a + block] = dct(log_mel, type=2, axis=1, norm="ortho")[:, 1 : n_mfcc + 1]
        energy[a : a + block] = np.log(power.sum(axis=1) + np.float32(1e-10))
    return cepstra, energy


@functools.lru_cache(maxsize=8)
def _mel_filterbank(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = mel_to_hz(np.linspace(hz_to_mel(60.0), hz_to_mel(0.95 * sr / 2), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    bank = np.zeros((n_mels, bins.size))
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rising = (bins - lo) / (mid - lo)
        falling = (hi - bins) / (hi - mid)
        bank[m] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank.astype(np.float32)


def _piece_features(pieces, words, mfcc, energy, hop_s: float = 0.010):
    dims = mfcc.shape[1]
    feats = np.zeros((len(pieces), 2 * dims), dtype=np.float64)
    counts = []
    if len(energy):
        gate = np.percentile(energy, 30)  # frames quieter than this are pauses between words
    for k, (indices, _, _) in enumerate(pieces):
        rows = []
        for i in indices:
            w = words[i]
            if w.start is None or w.end is None:
                continue
            a, b = int(w.start / hop_s), int(np.ceil(w.end / hop_s))
            rows.append(np.arange(a, min(b, len(energy))))
        idx = np.concatenate(rows) if rows else np.zeros(0, int)
        idx = idx[idx < len(energy)]
        if idx.size:
            idx = idx[energy[idx] >= gate] if (energy[idx] >= gate).sum() >= 3 else idx
        counts.append(int(idx.size))
        if idx.size:
            block = mfcc[idx]
            feats[k] = np.concatenate([block.mean(axis=0), block.std(axis=0)])
    return feats, counts


def _smooth(assign: np.ndarray, conf: np.ndarray, durations: np.ndarray, options: SpeakerOptions):
    assign, conf = assign.copy(), conf.copy()
    for i in range(1, len(assign) - 1):
        if (assign[i - 1] == assign[i + 1] != assign[i]
                and durations[i] < options.smooth_max_s and conf[i] < options.smooth_max_confidence):
            assign[i] = assign[i - 1]
            conf[i] = 0.5 + (0.5 - (conf[i] - 0.5)) / 2  # flipped: still unsure
    return assign, conf


# --- turns -------------------------------------------------------------------------------


def words_to_turns(words: Sequence[Word], labels: Sequence[str], confidences: Sequence[float]
                   ) -> tuple[Turn, ...]:
    """Join consecutive words of the same speaker into turns.

    Args:
        words: Words in time order.
        labels: One speaker label per word.
        confidences: One attribution confidence per word.

    Returns:
        Turns whose confidence is the duration-weighted mean of their words'.
    """
    turns: list[Turn] = []
    group: list[int] = []

    def close() -> None:
        if not group:
            return
        ws = [words[i] for i in group]
        weights = np.array([max((w.end or 0) - (w.start or 0), 0.01) for w in ws])
        conf = float(np.average([confidences[i] for i in group], weights=weights))
        starts = [w.start for w in ws if w.start is not None]
        ends = [w.end for w in ws if w.end is not None]
        turns.append(Turn(
            speaker=labels[group[0]],
            text=" ".join(w.text for w in ws if w.text),
            start=min(starts) if starts else None,
            end=max(ends) if ends else None,
            words=tuple(ws),
            confidence=round(conf, 3),
        ))

    for i in range(len(words)):
        if group and labels[i] != labels[group[0]]:
            close()
            group = []
        group.append(i)
    close()
    return tuple(turns)


# --- optional pyannote backend ------------------------------------------------------------


def pyannote_pipeline_path() -> Path | None:
    """The local pyannote pipeline folder, when the optional backend can be used.

    Returns:
        The folder named by ``INTERVIEW_ANALYZER_PYANNOTE`` when it holds a
        ``config.yaml`` and ``pyannote.audio`` is importable; otherwise ``None``.
        Nothing is ever downloaded for it.
    """
    folder = os.environ.get(ENV_PYANNOTE, "").strip()
    if not folder or not (Path(folder) / "config.yaml").is_file():
        return None
    try:
        import pyannote.audio  # noqa: F401
    except ImportError:
        return None
    return Path(folder)


def diarize_words_pyannote(samples: np.ndarray, sampling_rate: int, words: Sequence[Word],
                           pipeline_dir: Path) -> Attribution:
    """Attribute words with a local pyannote pipeline (optional backend).

    Args:
        samples: One channel, shaped ``(n,)``.
        sampling_rate: Samples per second.
        words: Words with times.
        pipeline_dir: Folder with the pipeline's ``config.yaml``.

    Returns:
        One label per word (by largest overlap with pyannote's turns), confidence
        the overlapping share of the word.
    """
    import torch
    from pyannote.audio import Pipeline

    pipeline = _pyannote(str(pipeline_dir), Pipeline)
    waveform = torch.from_numpy(np.asarray(samples, dtype=np.float32))[None, :]
    annotation = pipeline({"waveform": waveform, "sample_rate": sampling_rate}, num_speakers=2)
    segments = [(seg.start, seg.end, label) for seg, _, label in annotation.itertracks(yield_label=True)]
    order: dict[str, str] = {}
    labels, confs = [], []
    for w in words:
        best, best_overlap = None, 0.0
        for s, e, label in segments:
            overlap = min(e, w.end or 0) - max(s, w.start or 0)
            if overlap > best_overlap:
                best, best_overlap = label, overlap
        best = best or (segments[0][2] if segments else "A")
        order.setdefault(best, f"SPEAKER_{len(order):02d}")
        labels.append(order[best])
        span = max((w.end or 0) - (w.start or 0), 1e-3)
        confs.append(round(float(np.clip(best_overlap / span, 0.5, 1.0)), 3))
    return Attribution(tuple(labels), tuple(confs), "pyannote", {"segments": len(segments)})


@functools.lru_cache(maxsize=1)
def _pyannote(path: str, pipeline_cls):
    return pipeline_cls.from_pretrained(str(Path(path) / "config.yaml"))
