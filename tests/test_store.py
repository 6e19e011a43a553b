"""The SQLite store: round trips, concurrency, erasure, migrations, decisions and the job table."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from analyzer.errors import StoreError
from analyzer.records import Turn
from analyzer.store import (
    ADDED_RULE_ID,
    FRAME_COLUMNS,
    SCHEMA_VERSION,
    Flag,
    JobLost,
    Store,
    report_from_dict,
    resolve_db_path,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "dev" / "ru_strong_zoom.vtt"
RECORDING = REPO / "sample_data" / "sample_interview_en.ogg"
MARKER = "Zqxj-secret-7731"


@pytest.fixture(scope="module")
def analysed():
    """The Russian sample transcript with a marker phrase, and its report."""
    from analyzer.pipeline import analyze_transcript
    from analyzer.transcripts import read_transcript

    transcript = read_transcript(SAMPLE)
    last = transcript.turns[-1]
    turns = transcript.turns[:-1] + (dataclasses.replace(last, text=f"{last.text} {MARKER}"),)
    transcript = dataclasses.replace(transcript, turns=turns)
    return transcript, analyze_transcript(transcript)


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path}/db/interviews.db")


def first_flag(report):
    q = next(q for q in report.questions if q.signals)
    s = q.signals[0]
    return Flag(q.index, s.signal, s.rule_id, s.start_char, s.end_char), s


@pytest.mark.parametrize(
    ("url", "expected"),
    [("sqlite:///data/x.db", "data/x.db"), ("sqlite:////tmp/x.db", "/tmp/x.db"), ("some/file.db", "some/file.db"),
     ("sqlite+pysqlite:///a.db?timeout=3", "a.db")],
)
def test_store_resolves_urls(url, expected):
    assert resolve_db_path(url).as_posix() == expected


@pytest.mark.parametrize("url", ["postgresql://host/db", "sqlite://", "sqlite:///:memory:", ":memory:", "sqlite://x.db"])
def test_store_rejects_urls_it_cannot_serve(url):
    with pytest.raises(StoreError):
        resolve_db_path(url)


def test_store_env_var_names_the_default_database(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERVIEW_ANALYZER_DB", str(tmp_path / "env.db"))
    assert Store().path == tmp_path / "env.db"


def test_store_connections_use_wal_busy_timeout_and_secure_delete(store):
    conn = store._connect()
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        conn.close()


def test_store_report_round_trips_through_json(analysed):
    _, report = analysed
    assert report_from_dict(report.to_dict()) == report


def test_store_save_analysis_then_open(store, analysed):
    transcript, report = analysed
    iid = store.save_analysis(SAMPLE, transcript, report, role="Account manager")
    view = store.open_interview(iid)
    assert view.interview.status == "done"
    assert view.interview.source_name == SAMPLE.name
    assert view.interview.recording_path is None  # a transcript file is not kept
    assert view.interview.candidate == report.speakers["candidate"]
    assert view.transcript.to_dict() == transcript.to_dict()
    assert view.report.report == report
    assert view.report.thresholds_version == report.provenance["thresholds_version"]
    assert [i.id for i in store.list_interviews()] == [iid]


def test_store_keeps_recordings_under_generated_names(store, analysed):
    transcript, report = analysed
    iid = store.save_analysis(RECORDING, transcript, report)
    interview = store.get_interview(iid)
    path = store.recording_file(interview)
    assert path is not None and path.parent == store.recordings_dir
    assert RECORDING.stem not in path.name and path.suffix == ".ogg"
    assert path.read_bytes() == RECORDING.read_bytes()
    assert store.find_recording(interview.recording_sha256) == [iid]


def test_store_concurrent_writers_never_see_database_is_locked(store, analysed):
    transcript, report = analysed
    rid = store.latest_report(store.save_analysis(SAMPLE, transcript, report)).id
    errors: list[BaseException] = []
    start = threading.Barrier(9)

    def decide(n: int) -> None:
        try:
            own = Store(store.url)  # as another session would
            start.wait()
            for i in range(40):
                own.set_decision(rid, Flag(n, "example", "test.v1", i, i + 1), "confirm" if i % 2 else "reject",
                                 reviewer=f"r{n}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def hog() -> None:  # a slow writer holding the lock for a while
        try:
            start.wait()
            with store._write() as conn:
                conn.execute("UPDATE interviews SET role = 'x'")
                threading.Event().wait(0.3)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(8)] + [threading.Thread(target=hog)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.decisions(report_id=rid)) == 8 * 40


def test_store_failed_write_leaves_nothing(store, analysed, monkeypatch):
    transcript, _ = analysed
    import analyzer.store as store_module

    def broken(*args, **kwargs):
        raise sqlite3.IntegrityError("simulated failure after the interview row")

    monkeypatch.setattr(store_module, "_insert_job", broken)
    with pytest.raises(StoreError, match="nothing was changed"):
        store.create_interview(source_kind="recording", source_name="x.ogg", recording=RECORDING, transcript=transcript)
    with store._read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM interviews").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM transcripts").fetchone()[0] == 0
    assert list(store.recordings_dir.iterdir()) == []


def _database_bytes(store: Store) -> bytes:
    return b"".join(p.read_bytes() for p in store.path.parent.glob(store.path.name + "*") if p.is_file())


def test_store_delete_erases_rows_recording_and_wal(store, analysed):
    transcript, report = analysed
    keep = store.save_analysis(SAMPLE, transcript, report, candidate="Other Person")
    iid = store.save_analysis(RECORDING, transcript, report, candidate=f"Candidate {MARKER}")
    flag, signal = first_flag(report)
    rid = store.latest_report(iid).id
    store.set_decision(rid, flag, "confirm", note=f"note {MARKER}", text=signal.text)
    store.enqueue_job(iid, "analyze")
    recording = store.recording_file(store.get_interview(iid))
    assert recording.exists()
    assert MARKER.encode() in _database_bytes(store)

    store.delete_interview(iid)

    assert not recording.exists()
    assert [i.id for i in store.list_interviews()] == [keep]
    with store._read() as conn:
        for table in ("interviews", "transcripts", "reports", "decisions", "jobs"):
            column = "id" if table == "interviews" else "interview_id"
            assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (iid,)).fetchone()[0] == 0
    wal = store.path.with_name(store.path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    # The other interview holds the same transcript text, so look for what only this one had.
    assert f"Candidate {MARKER}".encode() not in _database_bytes(store)
    assert f"note {MARKER}".encode() not in _database_bytes(store)
    with pytest.raises(StoreError, match="no interview"):
        store.delete_interview(iid)


def test_store_delete_erases_the_only_copy_of_a_transcript(store, analysed):
    transcript, report = analysed
    iid = store.save_analysis(SAMPLE, transcript, report)
    assert MARKER.encode() in _database_bytes(store)
    store.delete_interview(iid)
    assert MARKER.encode() not in _database_bytes(store)


def test_store_migrates_an_older_schema_keeping_its_data(tmp_path, analysed):
    transcript, report = analysed
    url = f"sqlite:///{tmp_path}/old.db"
    old = Store(url, schema_version=1)
    assert old.schema_version() == 1
    iid = old.save_analysis(SAMPLE, transcript, report)
    rid = old.latest_report(iid).id
    flag, signal = first_flag(report)
    with sqlite3.connect(old.path) as conn:
        assert "jobs" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        # a verdict stored under the first schema (one decision per flag)
        conn.execute("INSERT INTO decisions (interview_id, report_id, entry, signal, rule_id, start_char, end_char, text, "
                     "decision, note, reviewer, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'confirm', '', 'anna', "
                     "'2026-01-01T00:00:00')", (iid, rid, *flag, signal.text))

    new = Store(url)

    assert new.schema_version() == SCHEMA_VERSION
    assert new.open_interview(iid).report.report == report
    assert new.decision(rid, flag, reviewer="anna").decision == "confirm"
    new.set_decision(rid, flag, "reject", reviewer="boris")  # the third schema keeps both verdicts
    assert {d.reviewer: d.decision for d in new.decisions(report_id=rid)} == {"anna": "confirm", "boris": "reject"}
    job_id = new.enqueue_job(iid, "analyze")
    assert new.get_job(job_id).status == "queued"


def test_store_refuses_a_newer_schema(tmp_path):
    store = Store(tmp_path / "x.db")
    with sqlite3.connect(store.path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (?, 'future')", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path / "x.db")


def test_store_leaves_a_foreign_database_untouched(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not an interview-analyzer database"):
        Store(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT body FROM notes").fetchall() == [("keep me",)]
        assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master")} == {"notes"}
    assert path.read_bytes()[:100] == before[:100]


def test_store_decisions_are_plain_records_and_updatable(store, analysed):
    transcript, report = analysed
    rid = store.latest_report(store.save_analysis(SAMPLE, transcript, report)).id
    flag, signal = first_flag(report)
    d = store.set_decision(rid, flag, "confirm", reviewer="anna", text=signal.text)
    assert (d.decision, d.reviewer, d.flag, d.text) == ("confirm", "anna", flag, signal.text)
    d = store.set_note(rid, flag, "clear example")
    assert (d.decision, d.note) == ("confirm", "clear example")
    d = store.set_note(rid, flag, "clear example", reviewer="anna")
    assert (d.decision, d.note, d.reviewer) == ("confirm", "clear example", "anna")
    # a second reviewer's verdict is kept beside the first, not over it
    d = store.set_decision(rid, flag, "reject", reviewer="boris")
    assert (d.decision, d.note, d.reviewer) == ("reject", "", "boris")
    assert store.decision(rid, flag, reviewer="anna").decision == "confirm"
    assert store.decision(rid, flag).reviewer == "boris"  # the latest of anyone's
    frame = store.decisions_frame()
    assert sorted(frame["reviewer"]) == ["anna", "boris"] and frame["decision"].tolist().count("reject") == 1
    store.clear_decision(rid, flag, reviewer="boris")
    assert store.decision(rid, flag).reviewer == "anna"
    store.clear_decision(rid, flag)
    assert store.decision(rid, flag) is None
    with pytest.raises(ValueError):
        store.set_decision(rid, flag, "maybe")
    with pytest.raises(StoreError):
        store.set_decision(rid + 99, flag, "confirm")


def test_store_decisions_carry_over_to_a_rerun(store, analysed):
    transcript, report = analysed
    iid = store.save_analysis(SAMPLE, transcript, report)
    old = store.latest_report(iid).id
    flag, signal = first_flag(report)
    store.set_decision(old, flag, "reject", note="not an example")
    entry = report.questions[flag.entry]
    store.add_signal(old, entry.index, "metric", 0, 10, entry.answer[:10], reviewer="anna")
    store.add_signal(old, entry.index, "story", 0, 5, "wrong words")  # no longer matches the answer

    new = store.save_report(iid, report)

    carried = {d.flag: d for d in store.decisions(report_id=new)}
    assert carried[flag].decision == "reject" and carried[flag].note == "not an example"
    assert carried[Flag(entry.index, "metric", ADDED_RULE_ID, 0, 10)].decision == "added"
    assert len(carried) == 2


def test_store_decisions_frame_has_the_documented_columns(store, analysed):
    transcript, report = analysed
    iid = store.save_analysis(SAMPLE, transcript, report)
    rid = store.latest_report(iid).id
    flags = [(q, s) for q in report.questions for s in q.signals]
    (q1, s1), (q2, s2) = flags[:2]
    store.set_decision(rid, Flag(q1.index, s1.signal, s1.rule_id, s1.start_char, s1.end_char), "confirm", reviewer="a")
    store.set_decision(rid, Flag(q2.index, s2.signal, s2.rule_id, s2.start_char, s2.end_char), "reject", reviewer="a")
    store.add_signal(rid, q1.index, "metric", 0, 4, q1.answer[:4], reviewer="a")

    frame = store.decisions_frame()
    assert tuple(frame.columns) == FRAME_COLUMNS
    assert sorted(frame["decision"]) == ["added", "confirm", "reject"]
    assert dict(zip(frame["decision"], frame["verdict"])) == {"confirm": 1, "reject": 0, "added": 1}
    assert frame.loc[frame["decision"] == "confirm", "score"].item() == s1.score
    assert frame.loc[frame["decision"] == "added", "score"].isna().all()
    assert (frame["interview"] == iid).all()

    everything = store.decisions_frame(reviewed_only=False)
    assert len(everything) == len(flags) + 1
    assert everything["decision"].isna().sum() == len(flags) - 2
    empty = Store(store.path.with_name("empty.db")).decisions_frame()
    assert tuple(empty.columns) == FRAME_COLUMNS and empty.empty


def test_store_decisions_frame_feeds_calibration(store, analysed):
    calibrate = pytest.importorskip("analyzer.calibrate")
    transcript, report = analysed
    rid = store.latest_report(store.save_analysis(SAMPLE, transcript, report)).id
    q = next(q for q in report.questions if q.signals)
    s = q.signals[0]
    store.set_decision(rid, Flag(q.index, s.signal, s.rule_id, s.start_char, s.end_char), "confirm", reviewer="a")
    frame = calibrate.normalize_decisions(store.decisions_frame())
    assert frame["verdict"].tolist() == [1]


def test_store_stale_jobs_are_requeued_then_failed(store, analysed):
    transcript, _ = analysed
    iid = store.create_interview(source_kind="transcript", transcript=transcript, max_attempts=2)
    job = store.claim_job("w1")
    assert store.get_interview(iid).status == "queued"
    assert store.recover_stale_jobs(60) == []  # fresh heartbeat: left alone
    (requeued,) = store.recover_stale_jobs(60, now=job.heartbeat + 61)
    assert (requeued.status, requeued.attempts) == ("queued", 1)
    job = store.claim_job("w2")
    (failed,) = store.recover_stale_jobs(60, now=job.heartbeat + 61)
    assert failed.status == "failed" and "Retry" in failed.error
    assert store.get_interview(iid).status == "failed"
    retried = store.retry_job(failed.id)
    assert (retried.status, retried.attempts, retried.error) == ("queued", 0, None)
    assert store.get_interview(iid).status == "queued"


def test_store_a_job_taken_away_writes_nothing(store, analysed):
    transcript, report = analysed
    iid = store.create_interview(source_kind="transcript", transcript=transcript)
    job = store.claim_job("sleepy")
    store.recover_stale_jobs(60, now=job.heartbeat + 61)
    store.claim_job("fresh")
    with pytest.raises(JobLost):
        store.save_report(iid, report, job=(job.id, "sleepy"))
    with pytest.raises(JobLost):
        store.update_job(job.id, "sleepy", progress=0.5)
    assert store.latest_report(iid) is None
    store.fail_job(job.id, "sleepy", "late failure")  # ignored: not its job any more
    assert store.get_job(job.id).status == "running"


def test_store_one_job_per_interview_at_a_time(store, analysed):
    transcript, _ = analysed
    iid = store.create_interview(source_kind="transcript", transcript=transcript)
    with pytest.raises(StoreError, match="already being processed"):
        store.enqueue_job(iid, "analyze")


def test_store_update_interview_allows_only_reviewer_fields(store, analysed):
    transcript, report = analysed
    iid = store.save_analysis(SAMPLE, transcript, report)
    assert store.update_interview(iid, interviewer="Игорь Смирнов").interviewer == "Игорь Смирнов"
    with pytest.raises(ValueError):
        store.update_interview(iid, status="done")


def test_store_survives_a_copied_database(tmp_path, store, analysed):
    """A backup copy (db + wal) opens as a store with the same interviews."""
    transcript, report = analysed
    iid = store.save_analysis(SAMPLE, transcript, report)
    store.checkpoint()
    shutil.copy(store.path, tmp_path / "copy.db")
    assert Store(tmp_path / "copy.db").open_interview(iid).report.report == report


def test_store_turn_text_is_kept_verbatim(store, analysed):
    transcript, report = analysed
    odd = dataclasses.replace(transcript, turns=transcript.turns + (Turn(speaker="X", text="<script>alert(1)</script>"),))
    iid = store.save_analysis(SAMPLE, odd, report)
    assert store.latest_transcript(iid).turns[-1].text == "<script>alert(1)</script>"


# --- the list and delete commands ------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path, analysed):
    transcript, report = analysed
    store = Store(tmp_path / "cli.db")
    ids = [store.save_analysis(SAMPLE, transcript, report, role="AM"), store.save_analysis(RECORDING, transcript, report)]
    return store, ids


def test_store_cli_list_shows_interviews(cli_db):
    from click.testing import CliRunner

    from analyzer.cli import main

    store, ids = cli_db
    result = CliRunner().invoke(main, ["list", "--db", str(store.path)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:3] == ["id", "date", "candidate"]
    assert [line.split()[0] for line in lines[1:]] == [str(i) for i in reversed(ids)]
    as_json = CliRunner().invoke(main, ["list", "--json"], env={"INTERVIEW_ANALYZER_DB": f"sqlite:///{store.path}"})
    assert [row["id"] for row in __import__("json").loads(as_json.output)] == list(reversed(ids))


def test_store_cli_delete_erases_after_confirmation(cli_db):
    from click.testing import CliRunner

    from analyzer.cli import main

    store, (first, second) = cli_db
    recording = store.recording_file(store.get_interview(second))
    refused = CliRunner().invoke(main, ["delete", str(second), "--db", str(store.path)], input="n\n")
    assert refused.exit_code == 1 and recording.exists()
    done = CliRunner().invoke(main, ["delete", str(second), "--db", str(store.path)], input="y\n")
    assert done.exit_code == 0, done.output
    assert not recording.exists()
    assert [i.id for i in store.list_interviews()] == [first]


@pytest.mark.parametrize(("args", "message"), [
    (["delete", "99", "--yes"], "no interview 99"),
    (["list", "--db", "postgresql://x/y"], "only SQLite"),
])
def test_store_cli_errors_are_one_line(cli_db, args, message):
    from click.testing import CliRunner

    from analyzer.cli import main

    store, _ = cli_db
    if "--db" not in args:
        args = args + ["--db", str(store.path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_store_cli_list_without_a_database_says_what_to_do(tmp_path):
    from click.testing import CliRunner

    from analyzer.cli import main

    result = CliRunner().invoke(main, ["list", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "analyze FILE --db" in result.output
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("name", ["list", "delete"])
def test_store_cli_commands_have_help_with_an_example(name):
    from analyzer.cli import main

    assert "Example:" in main.commands[name].help


@pytest.mark.parametrize("content", [b"this is a text file, not a database\n" * 20])
def test_store_refuses_a_file_that_is_not_sqlite(tmp_path, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        Store(path)
    assert path.read_bytes() == content


def test_store_erasing_an_interview_mid_job_drops_the_job_results(store, analysed):
    transcript, report = analysed
    iid = store.create_interview(source_kind="recording", source_name="x.ogg", recording=RECORDING)
    job = store.claim_job("worker")
    store.delete_interview(iid)
    with pytest.raises(JobLost):
        store.save_transcript(iid, transcript, job=(job.id, "worker"))
    with pytest.raises(JobLost):
        store.save_report(iid, report, job=(job.id, "worker"))
    assert store.list_interviews() == [] and list(store.recordings_dir.iterdir()) == []


@pytest.mark.parametrize(("label", "shown"), [("SPEAKER_01", ""), ("Candidate", ""), ("Игорь Смирнов", "Игорь Смирнов")])
def test_store_candidate_name_comes_only_from_a_real_label(store, analysed, label, shown):
    transcript, report = analysed
    report = dataclasses.replace(report, speakers={**report.speakers, "candidate": label})
    assert store.get_interview(store.save_analysis(SAMPLE, transcript, report)).candidate == shown
    iid = store.create_interview(source_kind="transcript", transcript=transcript, enqueue=None)
    store.save_report(iid, report)
    assert store.get_interview(iid).candidate == shown
