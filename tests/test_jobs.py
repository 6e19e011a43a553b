"""The job queue: uploads are validated before storing, the worker processes them, dead jobs recover."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzer.errors import AudioError, InputError, TranscriptError
from analyzer.jobs import (
    Worker,
    WorkerOptions,
    accept_upload,
    start_worker,
    stop_workers,
    upload_kind,
    wait_for_job,
)
from analyzer.store import Store
from analyzer.transcripts import read_transcript

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "dev" / "ru_strong_zoom.vtt"
SAMPLE_EN = REPO / "sample_data" / "dev" / "en_strong_teams.vtt"
RECORDING = REPO / "sample_data" / "sample_interview_en.ogg"
FAST = WorkerOptions(poll_s=0.05, heartbeat_s=0.05, stale_after_s=0.5, progress_every_s=0.0)


class FakeTranscriber:
    """Stands in for faster-whisper: returns a known transcript and reports progress."""

    def __init__(self, transcript_path: Path = SAMPLE_EN, error: Exception | None = None):
        self.calls: list[tuple[Path, dict]] = []
        self.transcript = read_transcript(transcript_path)
        self.error = error

    def __call__(self, path, options, progress):
        self.calls.append((Path(path), dict(options)))
        progress(30.0, 60.0)
        if self.error:
            raise self.error
        return self.transcript


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "interviews.db")


@pytest.fixture(autouse=True)
def _no_leftover_workers():
    yield
    stop_workers()


@pytest.mark.parametrize(("name", "kind"), [("a.vtt", "transcript"), ("B.SRT", "transcript"), ("c.json", "transcript"),
                                            ("d.txt", "transcript"), ("e.m4a", "recording"), ("f.OGG", "recording")])
def test_jobs_upload_kind_follows_the_extension(name, kind):
    assert upload_kind(name) == kind


@pytest.mark.parametrize("name", ["virus.exe", "noext", "report.pdf"])
def test_jobs_upload_kind_lists_what_is_accepted(name):
    with pytest.raises(InputError, match=r"\.vtt .*\.mp3"):
        upload_kind(name)


def test_jobs_transcript_upload_is_stored_and_queued(store):
    iid = accept_upload(store, "Интервью с Игорем.vtt", SAMPLE.read_bytes(), candidate="Игорь", role="AM",
                        interview_date="2026-11-20", language="auto")
    interview = store.get_interview(iid)
    assert (interview.status, interview.source_kind, interview.source_name) == ("queued", "transcript",
                                                                              "Интервью с Игорем.vtt")
    assert interview.job.kind == "process" and interview.job.status == "queued"
    assert store.latest_transcript(iid).source == "Интервью с Игорем.vtt"  # never the spool path
    assert list(store.uploads_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content", "error", "words"),
    [
        ("empty.vtt", b"", InputError, "empty"),
        ("binary.txt", b"\x00\x01\x02binary", TranscriptError, "binary"),
        ("monologue.txt", "Анна: привет\nАнна: как дела".encode(), TranscriptError, "one speaker"),
        ("noise.mp3", b"this is text, not audio" * 10, AudioError, "not a readable audio"),
        ("broken.json", b'{"turns": 5}', TranscriptError, "turns"),
    ],
)
def test_jobs_invalid_uploads_store_nothing(store, name, content, error, words):
    with pytest.raises(error, match=words) as info:
        accept_upload(store, name, content)
    assert str(info.value).startswith(name)  # named as the user knows it, not by the spool file
    assert store.list_interviews() == []
    assert list(store.uploads_dir.iterdir()) == []
    assert not store.recordings_dir.exists() or list(store.recordings_dir.iterdir()) == []


def test_jobs_upload_size_limit(store):
    with pytest.raises(InputError, match="limit"):
        accept_upload(store, "big.vtt", SAMPLE.open("rb"), max_bytes=100)
    assert store.list_interviews() == []


@pytest.mark.parametrize("name", ["../../../tmp/evil.vtt", "/etc/passwd.vtt", "..\\..\\x.vtt"])
def test_jobs_client_file_names_never_become_paths(store, tmp_path, name):
    iid = accept_upload(store, name, SAMPLE.read_bytes())
    assert store.get_interview(iid).source_name == Path(name).name
    allowed = {"interviews.db", "interviews.db-wal", "interviews.db-shm", "uploads", "recordings"}
    assert {p.name for p in tmp_path.iterdir()} <= allowed
    assert list(store.uploads_dir.iterdir()) == []


def test_jobs_transcript_upload_is_analysed_without_transcribing(store):
    fake = FakeTranscriber()
    iid = accept_upload(store, "talk.vtt", SAMPLE.read_bytes())
    job = Worker(store, FAST, transcriber=fake).run_once()
    assert job.status == "done" and job.progress == 1.0
    assert fake.calls == []
    view = store.open_interview(iid)
    assert view.interview.status == "done" and view.interview.language == "ru"
    assert view.report.report.speakers["interviewer"] == "Анна Петрова"


def test_jobs_recording_is_transcribed_once_and_rerun_only_analyses(store):
    fake = FakeTranscriber()
    iid = accept_upload(store, "call.ogg", RECORDING.read_bytes(), language="en")
    interview = store.get_interview(iid)
    assert interview.source_kind == "recording" and interview.duration_s > 1
    assert store.recording_file(interview).read_bytes() == RECORDING.read_bytes()
    worker = Worker(store, FAST, transcriber=fake)

    assert worker.run_once().status == "done"
    assert len(fake.calls) == 1 and fake.calls[0][1]["language"] == "en"
    first = store.latest_report(iid)
    assert first.report.source == "call.ogg"

    # The reviewer says the other speaker is the interviewer and re-runs the analysis.
    other = first.report.speakers["candidate"]
    store.update_interview(iid, interviewer=other)
    store.enqueue_job(iid, "analyze")
    assert worker.run_once().status == "done"
    assert len(fake.calls) == 1  # not transcribed again
    second = store.latest_report(iid)
    assert second.id != first.id and second.report.speakers["interviewer"] == other


def test_jobs_progress_and_stage_reach_the_store(store):
    seen = []

    class Watching(FakeTranscriber):
        def __call__(self, path, options, progress):
            progress(30.0, 60.0)
            job = store.jobs()[0]
            seen.append((job.stage, job.progress, store.get_interview(job.interview_id).status))
            return self.transcript

    accept_upload(store, "call.ogg", RECORDING.read_bytes())
    Worker(store, FAST, transcriber=Watching()).run_once()
    assert seen == [("transcribing", pytest.approx(0.45), "transcribing")]


@pytest.mark.parametrize(
    ("error", "message"),
    [(AudioError("no speech found: the recording is silent"), "no speech found"),
     (RuntimeError("boom"), "internal error (RuntimeError: boom)")],
)
def test_jobs_failures_are_recorded_in_plain_words(store, error, message):
    iid = accept_upload(store, "call.ogg", RECORDING.read_bytes())
    job = Worker(store, FAST, transcriber=FakeTranscriber(error=error)).run_once()
    assert job.status == "failed" and message in job.error
    interview = store.get_interview(iid)
    assert interview.status == "failed" and message in interview.error


def test_jobs_missing_transcription_module_is_explained(store, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_transcribe(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "transcribe" and level == 1 or name == "analyzer.transcribe":
            raise ImportError("simulated: module not written yet")
        return real_import(name, globals, locals, fromlist, level)

    accept_upload(store, "call.ogg", RECORDING.read_bytes())
    monkeypatch.setattr(builtins, "__import__", no_transcribe)
    job = Worker(store, FAST).run_once()
    assert job.status == "failed" and "upload a transcript instead" in job.error


def test_jobs_worker_thread_processes_the_queue(store):
    worker = start_worker(store, FAST)
    assert start_worker(store, FAST) is worker  # once per process
    iid = accept_upload(store, "talk.vtt", SAMPLE.read_bytes())
    job = wait_for_job(store, store.get_interview(iid).job.id, timeout_s=60)
    assert job.status == "done"
    stop_workers()
    assert not worker.alive


def test_jobs_job_of_a_killed_worker_is_requeued_and_finished(store):
    iid = accept_upload(store, "talk.vtt", SAMPLE.read_bytes())
    job_id = store.get_interview(iid).job.id
    victim = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from analyzer.store import Store\n"
         f"job = Store({str(store.path)!r}).claim_job('victim')\n"
         "print(job.id, flush=True)\n"
         "time.sleep(300)\n"],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    try:
        assert victim.stdout.readline().strip() == str(job_id)
    finally:
        victim.kill()  # dies mid-job: the row says running, nobody works on it
        victim.wait()
        victim.stdout.close()
    assert store.get_job(job_id).status == "running"

    worker = start_worker(store, FAST)
    job = wait_for_job(store, job_id, timeout_s=60)

    assert (job.status, job.attempts, job.worker) == ("done", 2, worker.token)
    assert store.latest_report(iid) is not None


def test_jobs_a_job_that_keeps_dying_fails_and_can_be_retried(store):
    iid = accept_upload(store, "talk.vtt", SAMPLE.read_bytes())
    job_id = store.get_interview(iid).job.id
    for n in range(3):  # three workers die holding it
        store.claim_job(f"dead-{n}")
        store.recover_stale_jobs(0.5, now=time.time() + 1)
    job = store.get_job(job_id)
    assert job.status == "failed" and "Retry" in job.error
    store.retry_job(job_id)
    assert Worker(store, FAST).run_once().status == "done"


@pytest.mark.slow
def test_jobs_real_transcription_of_the_sample_recording(store):
    from analyzer.errors import ModelNotAvailable
    from analyzer.resources import resolve_model

    try:
        resolve_model(None, language="en")
    except ModelNotAvailable as exc:
        pytest.skip(f"no offline speech model: {exc}")
    iid = accept_upload(store, "call.ogg", RECORDING.read_bytes(), language="en")
    job = Worker(store, FAST).run_once()
    assert job.status == "done", job.error
    view = store.open_interview(iid)
    assert view.interview.language == "en" and len(view.transcript.turns) >= 4
    assert view.transcript.source == "call.ogg"
    assert "client" in view.transcript.text.lower()
    assert any(q.kind == "bank" for q in view.report.report.questions)
