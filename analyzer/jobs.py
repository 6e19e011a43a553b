"""The job queue: an upload becomes a job that a worker thread processes outside the page.

Streamlit runs the page script in a thread per session and reruns it on every
click, so long work must not happen there (FAILURE-MODES.md, Streamlit). Instead:

1. :func:`accept_upload` spools the uploaded bytes to an app-owned file at once,
   validates them (a transcript is parsed, a recording is decoded), and stores the
   interview with a queued ``process`` job, in one transaction.
2. One :class:`Worker` thread per process (started by :func:`start_worker`, which
   the app wraps in ``st.cache_resource``) claims one job at a time, so the
   speech model is loaded once and never used by two threads at once. It writes
   progress and a heartbeat to the store; the page only polls the store.
3. A job whose heartbeat stops (the process was killed, the laptop slept) is
   re-queued by the next worker that starts or polls, up to ``max_attempts``
   tries; then it fails with a message and waits for the Retry button. A worker
   that wakes up to find its job taken writes nothing more (:class:`~analyzer.store.JobLost`).

A ``process`` job transcribes only when no transcript is stored yet, so transcript
uploads and re-runs never transcribe; an ``analyze`` job (re-run after correcting
the interviewer, or with a newer thresholds file) only analyses the stored transcript.
The worker never calls ``st.*``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Protocol

from .errors import AnalyzerError, AudioError, InputError, ModelNotAvailable, TranscriptError
from .records import Transcript
from .store import Job, JobLost, Store, safe_suffix
from .transcripts import TRANSCRIPT_EXTENSIONS, read_transcript

logger = logging.getLogger("analyzer")

#: Recording formats accepted for upload (decoded by ``analyzer.audio``).
RECORDING_EXTENSIONS = (".wav", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".oga", ".flac", ".webm", ".mp4", ".mkv",
                        ".mov", ".wma")
#: Everything the upload widget accepts.
UPLOAD_EXTENSIONS = TRANSCRIPT_EXTENSIONS + RECORDING_EXTENSIONS
#: Sampling rate at which an upload is decoded to validate it, in Hz.
VALIDATE_RATE_HZ = 8000
#: Share of a job's progress bar given to transcription (the rest is analysis).
TRANSCRIBE_SHARE = 0.9

#: ``progress(done_s, total_s)``, as :func:`analyzer.transcribe.transcribe_file` calls it.
Progress = Callable[[float, float], None]


class Transcriber(Protocol):
    def __call__(self, path: Path, options: dict, progress: Progress) -> Transcript: ...


@dataclass(frozen=True)
class WorkerOptions:
    """Timing of the worker.

    Attributes:
        poll_s: How often an idle worker looks for queued jobs, in seconds.
        heartbeat_s: How often a busy worker writes a heartbeat, in seconds.
        stale_after_s: A running job whose heartbeat is older than this was
            abandoned by a dead worker and is re-queued (or failed), in seconds.
            Several heartbeats long, so a busy machine is not mistaken for a dead one.
        progress_every_s: Progress is written at most this often, in seconds.
        max_attempts: Tries before a job that keeps dying is failed for a person to retry.
    """

    poll_s: float = 1.0
    heartbeat_s: float = 5.0
    stale_after_s: float = 60.0
    progress_every_s: float = 1.0
    max_attempts: int = 3


# --- uploads ----------------------------------------------------------------------------------


def upload_kind(name: str) -> str:
    """``transcript`` or ``recording``, from the uploaded file's extension.

    Raises:
        InputError: the extension is of neither, listing the accepted ones.

    Example:
        >>> upload_kind("Interview 3.VTT"), upload_kind("call.m4a")
        ('transcript', 'recording')
    """
    suffix = Path(name).suffix.lower()
    if suffix in TRANSCRIPT_EXTENSIONS:
        return "transcript"
    if suffix in RECORDING_EXTENSIONS:
        return "recording"
    raise InputError(f"{suffix or 'a file without extension'} is neither a transcript nor a recording; "
                     f"upload one of {' '.join(UPLOAD_EXTENSIONS)}")


def accept_upload(
    store: Store,
    name: str,
    data: bytes | IO[bytes],
    *,
    candidate: str = "",
    role: str = "",
    interview_date: str | None = None,
    language: str = "auto",
    interviewer: str | None = None,
    max_bytes: int | None = None,
) -> int:
    """Spool, validate and store an upload, and queue its processing.

    The bytes are written to an app-owned file under a generated name at once; the
    client-supplied ``name`` is used only for its extension and as text to show.
    Nothing is stored unless the file is a readable transcript or recording.

    Args:
        store: the store.
        name: the uploaded file's name.
        data: its content (bytes or a binary file object such as Streamlit's ``UploadedFile``).
        candidate, role, interview_date: what the uploader typed (shown only).
        language: ``auto``, ``ru`` or ``en``.
        interviewer: the interviewer's speaker label, when the uploader knows it.
        max_bytes: refuse larger uploads.

    Returns:
        The new interview id (its job is queued).

    Raises:
        InputError: wrong extension, too large, or the content is not a valid
            transcript (:class:`TranscriptError`) or recording (:class:`AudioError`);
            the message names the uploaded file.
    """
    kind = upload_kind(name)
    if language not in ("auto", "ru", "en"):
        raise ValueError(f"language must be auto, ru or en, not {language!r}")
    display = Path(name).name or "upload"
    store.uploads_dir.mkdir(parents=True, exist_ok=True)
    spool = store.uploads_dir / f"{uuid.uuid4().hex}{safe_suffix(name)}"
    try:
        size = _spool(data, spool, max_bytes)
        if size == 0:
            raise InputError("the file is empty (0 bytes)", display)
        try:
            if kind == "transcript":
                transcript = dataclasses.replace(read_transcript(spool), source=display)
                return store.create_interview(
                    source_kind="transcript", source_name=display, candidate=candidate, role=role,
                    interview_date=interview_date, language=language, interviewer=interviewer,
                    transcript=transcript, duration_s=transcript.duration_s, enqueue="process",
                    options={"language": language},
                )
            duration_s = validate_recording(spool)
            return store.create_interview(
                source_kind="recording", source_name=display, candidate=candidate, role=role,
                interview_date=interview_date, language=language, interviewer=interviewer,
                recording=spool, move_recording=True, duration_s=duration_s, enqueue="process",
                options={"language": language},
            )
        except InputError as exc:
            # Errors name the spool file; the user knows the upload by its own name.
            raise type(exc)(exc.message, display) from None
    finally:
        spool.unlink(missing_ok=True)


def _spool(data: bytes | IO[bytes], target: Path, max_bytes: int | None) -> int:
    with target.open("wb") as out:
        if isinstance(data, (bytes, bytearray, memoryview)):
            size = len(data)
            if max_bytes is not None and size > max_bytes:
                raise InputError(f"the file is {size / 2**20:.0f} MiB, over the limit of {max_bytes / 2**20:.0f} MiB")
            out.write(data)
            return size
        if hasattr(data, "seek"):
            data.seek(0)
        size = 0
        for block in iter(lambda: data.read(1 << 20), b""):
            size += len(block)
            if max_bytes is not None and size > max_bytes:
                raise InputError(f"the file is over the limit of {max_bytes / 2**20:.0f} MiB")
            out.write(block)
        return size


def validate_recording(path: str | os.PathLike[str]) -> float:
    """Decode a recording to prove it holds usable audio.

    Returns:
        Its duration in seconds.

    Raises:
        AudioError: it cannot be decoded, is silent, too short or too long, or the
            audio module is not installed.
    """
    try:
        from .audio import load_audio
    except ImportError:
        raise AudioError("recordings cannot be read in this installation (analyzer.audio is missing); "
                         "upload a transcript instead") from None
    # The whole file is decoded (a truncated file only shows at its end), but as mono at
    # 8 kHz: 115 MB per hour instead of 460 MB for stereo at 16 kHz. The checks need no more.
    return float(load_audio(path, sampling_rate=VALIDATE_RATE_HZ, keep_channels=False).duration_s)


def transcribe_recording(path: Path, options: dict, progress: Progress) -> Transcript:
    """The default transcriber: :func:`analyzer.transcribe.transcribe_file`.

    Raises:
        ModelNotAvailable: the transcription module or a speech model is missing.
        AudioError: the recording cannot be decoded.
    """
    try:
        from .transcribe import TranscribeOptions, transcribe_file
    except ImportError:
        raise ModelNotAvailable("recordings cannot be transcribed in this installation (analyzer.transcribe is "
                                "missing); upload a transcript instead") from None
    return transcribe_file(path, TranscribeOptions(**options), progress=progress)


# --- running one job -------------------------------------------------------------------------


def run_job(store: Store, job: Job, worker: str, *, transcriber: Transcriber = transcribe_recording,
            progress_every_s: float = 1.0) -> int:
    """Do one claimed job: transcribe when no transcript is stored yet, then analyse.

    Args:
        store: the store.
        job: a job claimed by ``worker``.
        worker: the claiming worker's token; every write checks it still holds the job.
        transcriber: turns a recording into a transcript (tests pass a fake).
        progress_every_s: write transcription progress at most this often.

    Returns:
        The id of the new report.

    Raises:
        AnalyzerError: the input cannot be processed (the job should fail with its message).
        JobLost: the job was taken from this worker.
    """
    interview = store.get_interview(job.interview_id)
    transcript = store.latest_transcript(interview.id)
    language = interview.language or "auto"
    if transcript is None:
        if job.kind == "analyze":
            raise TranscriptError("this interview has no transcript to analyse again; upload it again")
        path = store.recording_file(interview)
        if path is None:
            raise AudioError("the recording of this interview is missing from the data folder; upload it again")
        store.update_job(job.id, worker, progress=0.0, stage="transcribing")
        last = [0.0]

        def progress(done_s: float, total_s: float) -> None:
            now = time.monotonic()
            if now - last[0] >= progress_every_s and total_s:
                last[0] = now
                store.update_job(job.id, worker, progress=TRANSCRIBE_SHARE * min(1.0, done_s / total_s))

        options = {"language": language, **{k: v for k, v in job.options.items() if k != "language"}}
        transcript = transcriber(path, options, progress)
        transcript = dataclasses.replace(transcript, source=interview.source_name or None)
        store.save_transcript(interview.id, transcript, job=(job.id, worker))
        store.update_job(job.id, worker, progress=TRANSCRIBE_SHARE, stage="analysing")
    else:
        store.update_job(job.id, worker, progress=0.1, stage="analysing")
    report = analyse(transcript, language=language, interviewer=interview.interviewer)
    return store.save_report(interview.id, report, job=(job.id, worker))


def analyse(transcript: Transcript, *, language: str = "auto", interviewer: str | None = None):
    """Analyse with the packaged rubric, rules and the current thresholds file."""
    from .pipeline import analyze_transcript  # spaCy and scikit-learn only in the worker
    from .rubric import load_rubric
    from .signals import load_rules
    from .thresholds import load_thresholds

    return analyze_transcript(transcript, load_rubric(), load_thresholds(), load_rules(), language=language,
                              interviewer=interviewer)


# --- the worker -------------------------------------------------------------------------------


class Worker:
    """Processes queued jobs one at a time in a background thread.

    Args:
        store: the store to take jobs from.
        options: timing (see :class:`WorkerOptions`).
        transcriber: turns a recording into a transcript; :func:`transcribe_recording` by default.
    """

    def __init__(self, store: Store, options: WorkerOptions | None = None, *,
                 transcriber: Transcriber = transcribe_recording):
        self.store = store
        self.options = options or WorkerOptions()
        self.transcriber = transcriber
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Worker:
        """Start the thread (re-queueing jobs abandoned by dead workers first)."""
        if not self.alive:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="analyzer-worker", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the thread to stop after its current job and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def recover(self) -> None:
        self.store.recover_stale_jobs(self.options.stale_after_s)

    def run_once(self) -> Job | None:
        """Claim and process one queued job.

        Returns:
            The job as it ended (done or failed), or ``None`` when none was queued.
        """
        job = self.store.claim_job(self.token)
        if job is None:
            return None
        logger.info("job %d (%s) of interview %d started", job.id, job.kind, job.interview_id)
        beat = _Heartbeat(self.store, job.id, self.token, self.options.heartbeat_s)
        try:
            run_job(self.store, job, self.token, transcriber=self.transcriber,
                    progress_every_s=self.options.progress_every_s)
        except JobLost:
            logger.warning("job %d was taken from this worker (it looked dead); its results are dropped", job.id)
        except AnalyzerError as exc:
            self.store.fail_job(job.id, self.token, str(exc.message))
        except Exception as exc:  # noqa: BLE001 - a bug must fail the job, not kill the worker
            logger.exception("job %d failed", job.id)
            self.store.fail_job(job.id, self.token, f"internal error ({type(exc).__name__}: {exc}); see the log")
        finally:
            beat.stop()
        return self.store.get_job(job.id)

    def _loop(self) -> None:
        next_recovery = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_recovery:  # at start, then a few times per stale period
                    self.recover()
                    next_recovery = time.monotonic() + max(self.options.poll_s, self.options.stale_after_s / 4)
                job = self.run_once()
            except Exception:  # noqa: BLE001 - the database may be busy or gone; try again later
                logger.exception("the worker could not reach the store %s", self.store.path)
                job = None
            if job is None:
                self._stop.wait(self.options.poll_s)


class _Heartbeat:
    """Writes a job's heartbeat every few seconds while the job runs (model loading gives no progress)."""

    def __init__(self, store: Store, job_id: int, worker: str, every_s: float):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(store, job_id, worker, every_s),
                                        name=f"analyzer-heartbeat-{job_id}", daemon=True)
        self._thread.start()

    def _run(self, store: Store, job_id: int, worker: str, every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                store.update_job(job_id, worker)
            except JobLost:
                return
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                logger.warning("heartbeat of job %d could not be written", job_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


_WORKERS: dict[tuple[str, str], Worker] = {}
_WORKERS_LOCK = threading.Lock()


def start_worker(store: Store, options: WorkerOptions | None = None, *,
                 transcriber: Transcriber = transcribe_recording) -> Worker:
    """The one running worker of this process for ``store``, started if needed.

    The app calls this from an ``st.cache_resource`` function; the registry makes
    it safe to call again (another session, a cleared cache).
    """
    key = (str(store.path.resolve()), str(store.data_dir.resolve()))
    with _WORKERS_LOCK:
        worker = _WORKERS.get(key)
        if worker is None or not worker.alive:
            worker = Worker(store, options, transcriber=transcriber).start()
            _WORKERS[key] = worker
        return worker


def stop_workers(timeout_s: float = 10.0) -> None:
    """Stop every worker this process started (tests, shutdown)."""
    with _WORKERS_LOCK:
        workers = list(_WORKERS.values())
        _WORKERS.clear()
    for worker in workers:
        worker.stop(timeout_s)


def wait_for_job(store: Store, job_id: int, timeout_s: float = 30.0, poll_s: float = 0.05) -> Job:
    """Wait until a job is done or failed (tests and scripts).

    Raises:
        TimeoutError: it is still queued or running after ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        job = store.get_job(job_id)
        if job.status in ("done", "failed"):
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} is still {job.status} after {timeout_s:g} s")
        time.sleep(poll_s)


__all__ = [
    "RECORDING_EXTENSIONS",
    "UPLOAD_EXTENSIONS",
    "Worker",
    "WorkerOptions",
    "accept_upload",
    "run_job",
    "start_worker",
    "stop_workers",
    "transcribe_recording",
    "upload_kind",
    "validate_recording",
    "wait_for_job",
]
