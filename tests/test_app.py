"""The review app through Streamlit's AppTest: upload, review, correct, export, erase, escape."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analyzer.i18n import STRINGS, translator
from analyzer.jobs import Worker, WorkerOptions, stop_workers, wait_for_job
from analyzer.records import Turn
from analyzer.store import ADDED_RULE_ID, Flag, Store
from analyzer.transcripts import read_transcript, transcript_from_dict

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
SAMPLE_RU = REPO / "sample_data" / "dev" / "ru_strong_zoom.vtt"
SAMPLE_EN = REPO / "sample_data" / "dev" / "en_strong_teams.vtt"
RECORDING = REPO / "sample_data" / "sample_interview_en.ogg"
TRUTH = REPO / "sample_data" / "sample_interview_en.truth.json"
TIMEOUT_S = 30  # AppTest's default of 3 s is too short for a first import of the analyzer
EN, RU = translator("en"), translator("ru")
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty database for the app; the worker thread is off unless a test turns it on."""
    db = tmp_path / "data" / "interviews.db"
    monkeypatch.setenv("INTERVIEW_ANALYZER_DB", str(db))
    monkeypatch.setenv("INTERVIEW_ANALYZER_WORKER", "0")
    monkeypatch.delenv("INTERVIEW_ANALYZER_PASSWORD", raising=False)
    yield Store(db)
    stop_workers()
    st.cache_resource.clear()


def app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = str(value)
    return at.run()


def process(store: Store) -> None:
    """Run the queued jobs here, as the worker thread would."""
    worker = Worker(store, WorkerOptions())
    while worker.run_once() is not None:
        pass


def upload(at: AppTest, name: str, content: bytes, candidate: str = "") -> AppTest:
    at.file_uploader[0].set_value((name, content, "application/octet-stream"))
    if candidate:
        at.sidebar.text_input[1].input(candidate)
    next(b for b in at.button if b.label in (EN("upload_submit"), RU("upload_submit"))).click()
    return at.run()


def flags_of(store: Store, iid: int):
    view = store.open_interview(iid)
    rid = view.report.id
    out = []
    for q in view.report.report.questions:
        for s in q.signals:
            flag = Flag(q.index, s.signal, s.rule_id, s.start_char, s.end_char)
            key = f"{rid}-{flag.entry}-{flag.signal}-{flag.rule_id}-{flag.start_char}-{flag.end_char}"
            out.append((rid, flag, key))
    return out


def stored_recording_interview(store: Store) -> int:
    """The English sample recording with its true transcript, analysed and stored."""
    from analyzer.pipeline import analyze_transcript

    data = json.loads(TRUTH.read_text())
    for turn in data["turns"]:
        turn["speaker"] = turn["role"].title()
    transcript = transcript_from_dict(data)
    return store.save_analysis(RECORDING, transcript, analyze_transcript(transcript), role="Account manager")


@pytest.mark.parametrize("language", ["en"])
def test_app_strings_exist_in_both_languages(language):
    import string

    assert set(STRINGS["ru"]) == set(STRINGS[language])
    for key, text in STRINGS[language].items():
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(STRINGS["ru"][key]) if f}, key


def test_app_starts_on_an_empty_database(env):
    at = app()
    assert not at.exception
    assert any(EN("no_interviews") in i.value for i in at.info)
    assert at.file_uploader[0].proto.max_upload_size_mb == 1024


def test_app_upload_transcript_process_and_review(env, monkeypatch):
    monkeypatch.setenv("INTERVIEW_ANALYZER_WORKER", "1")  # the real worker thread of the app
    at = app()
    at = upload(at, "Собеседование.vtt", SAMPLE_RU.read_bytes(), candidate="Игорь")
    assert not at.exception, at.exception
    iid = int(at.query_params["interview"])
    interview = env.get_interview(iid)
    assert interview.source_name == "Собеседование.vtt" and interview.candidate == "Игорь"
    assert wait_for_job(env, interview.job.id, timeout_s=60).status == "done"

    at.run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs][:2] == [RU("tab_summary"), RU("tab_review")]  # a Russian interview
    flags = flags_of(env, iid)
    (rid, first, k1), (_, second, k2) = flags[:2]
    at.sidebar.text_input[0].input("Анна").run()
    at.button_group(key=f"d-{k1}").set_value("confirm").run()
    at.button_group(key=f"d-{k2}").set_value("reject").run()
    at.text_input(key=f"n-{k2}").input("это не пример").run()
    assert not at.exception, at.exception

    decisions = {d.flag: d for d in env.decisions(report_id=rid)}
    assert decisions[first].decision == "confirm" and decisions[first].reviewer == "Анна"
    assert (decisions[second].decision, decisions[second].note) == ("reject", "это не пример")
    # Saved at once: a fresh session (a page refresh) shows the same decisions.
    again = app(interview=iid)
    assert again.button_group(key=f"d-{k1}").value == "confirm"
    assert again.text_input(key=f"n-{k2}").value == "это не пример"

    # Unselecting a verdict keeps the note; unselecting one without a note forgets it.
    at.button_group(key=f"d-{k1}").set_value(None).run()
    at.button_group(key=f"d-{k2}").set_value(None).run()
    decisions = {d.flag: d for d in env.decisions(report_id=rid)}
    assert first not in decisions and (decisions[second].decision, decisions[second].note) == (None, "это не пример")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("scan.vtt", b"\x00\x01\x02\x03binary", "binary"), ("notes.pdf", b"%PDF-1.4", "neither a transcript"),
     ("voice.mp3", b"ID3 but not really audio" * 20, "not a readable audio")],
)
def test_app_refuses_invalid_uploads_in_plain_words(env, name, content, message):
    at = upload(app(), name, content)
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert env.list_interviews() == []
    assert "interview" not in at.query_params


def test_app_shows_transcript_html_as_text(env):
    transcript = read_transcript(SAMPLE_EN)
    turns = list(transcript.turns)
    turns[3] = dataclasses.replace(turns[3], text=f"{turns[3].text} {SCRIPT} <img src=x onerror=alert(2)>")
    turns.append(Turn(speaker=turns[1].speaker, text=f"Last words {SCRIPT}"))
    from analyzer.pipeline import analyze_transcript

    transcript = dataclasses.replace(transcript, turns=tuple(turns))
    iid = env.save_analysis(SAMPLE_EN, transcript, analyze_transcript(transcript),
                            candidate='<img src=x onerror="alert(3)">**bold**')
    at = app(interview=iid)
    assert not at.exception
    rendered = [h.value for h in at.html] + [m.value for m in at.markdown] + [h.value for h in at.header]
    assert at.html and any("&lt;script&gt;alert(1)&lt;/script&gt;" in h.value for h in at.html)
    for text in rendered:
        assert "<script" not in text and "<img" not in text, text
    # Our own highlighting is the only markup: marks around evidence, nothing else from the transcript.
    assert any("<mark" in h.value for h in at.html)
    assert at.header[0].value.startswith("&lt;img")
    assert not any(m.allow_html for m in at.markdown if "script" in m.value)


def test_app_erasing_an_interview_removes_rows_and_recording(env):
    iid = stored_recording_interview(env)
    recording = env.recording_file(env.get_interview(iid))
    at = app(interview=iid)
    assert not at.exception
    assert at.button(key=f"delete-{iid}").disabled
    at.checkbox(key=f"sure-{iid}").check().run()
    at.button(key=f"delete-{iid}").click().run()
    assert not at.exception
    assert env.list_interviews() == []
    assert not recording.exists()
    assert "interview" not in at.query_params
    assert any(EN("deleted") in s.value for s in at.success)


def test_app_plays_the_recording_from_a_quote(env):
    iid = stored_recording_interview(env)
    at = app(interview=iid)
    (audio,) = at.get("audio")
    assert audio.proto.start_time == 0
    rid, flag, key = next(f for f in flags_of(env, iid) if f[1].entry > 0)
    at.button(key=f"play-{key}").click().run()
    (audio,) = at.get("audio")
    start = next(s.start for q in env.latest_report(iid).report.questions for s in q.signals
                 if (q.index, s.signal, s.rule_id, s.start_char, s.end_char) == tuple(flag))
    assert audio.proto.start_time == int(start) > 0
    assert audio.proto.autoplay


def test_app_language_follows_the_interview_and_the_switch(env):
    from analyzer.pipeline import analyze_transcript

    transcript = read_transcript(SAMPLE_EN)
    iid = env.save_analysis(SAMPLE_EN, transcript, analyze_transcript(transcript))
    at = app(interview=iid)
    assert at.tabs[0].label == EN("tab_summary")
    switch = at.sidebar.button_group[0]
    switch.set_value("ru").run()
    assert at.query_params["lang"] == "ru"
    assert at.tabs[0].label == RU("tab_summary")
    assert not at.exception


def test_app_correct_interviewer_and_rerun_without_transcribing(env):
    from analyzer.pipeline import analyze_transcript

    transcript = read_transcript(SAMPLE_EN)
    iid = env.save_analysis(SAMPLE_EN, transcript, analyze_transcript(transcript))
    before = env.latest_report(iid)
    at = app(interview=iid)
    other = before.report.speakers["candidate"]
    form = next(s for s in at.selectbox if s.label == EN("interviewer_is"))
    form.select(other)
    next(b for b in at.button if b.label == EN("rerun")).click().run()
    assert not at.exception
    job = env.get_interview(iid).job
    assert job.kind == "analyze" and job.status == "queued"
    process(env)
    after = env.latest_report(iid)
    assert after.id != before.id and after.report.speakers["interviewer"] == other
    assert env.latest_transcript(iid).to_dict() == transcript.to_dict()
    # the page now says what the re-run changed against the report it replaced
    at = app(interview=iid)
    assert not at.exception
    changes = next(e for e in at.expander if e.label == EN("changes_header"))
    shown = " ".join(c.value for c in changes.caption)
    assert f"{before.report.speakers['interviewer']} → {other}" in shown


def test_app_add_a_missed_signal_on_a_passage(env):
    from analyzer.pipeline import analyze_transcript

    transcript = read_transcript(SAMPLE_EN)
    report = analyze_transcript(transcript)
    iid = env.save_analysis(SAMPLE_EN, transcript, report)
    entry = next(q for q in report.questions if len(q.answer.split()) > 12)
    passage = " ".join(entry.answer.split()[3:9])
    at = app(interview=iid)
    at.selectbox(key=f"add-entry-{iid}").select(entry.index).run()
    at.text_area[0].input(f"  {passage}\n")
    next(b for b in at.button if b.label == EN("add_submit")).click().run()
    assert not at.exception
    (added,) = [d for d in env.decisions(interview_id=iid) if d.rule_id == ADDED_RULE_ID]
    assert added.decision == "added" and added.text == passage and added.entry == entry.index
    assert entry.answer[added.start_char:added.end_char] == passage

    at.text_area[0].input("words that are not in the answer at all")
    next(b for b in at.button if b.label == EN("add_submit")).click().run()
    assert any(EN("add_not_found", entry=entry.index + 1) in e.value for e in at.error)


def test_app_offers_the_three_exports(env):
    from analyzer.pipeline import analyze_transcript

    transcript = read_transcript(SAMPLE_EN)
    iid = env.save_analysis(SAMPLE_EN, transcript, analyze_transcript(transcript))
    at = app(interview=iid)
    labels = [b.label for b in at.get("download_button")]
    assert labels == [EN("export_md"), EN("export_csv"), EN("export_json"), EN("export_decisions")]


def test_app_follows_a_job_and_offers_retry_after_failure(env):
    iid = env.create_interview(source_kind="recording", source_name="call.ogg", recording=RECORDING)
    at = app(interview=iid)
    assert not at.exception
    assert at.get("progress")  # queued: a progress bar, no report yet
    job = env.claim_job("dead-worker")
    env.fail_job(job.id, "dead-worker", "no speech found: the recording is silent")
    at = app(interview=iid)
    assert any("no speech found" in e.value for e in at.error)
    next(b for b in at.button if b.label == EN("retry")).click().run()
    assert env.get_interview(iid).status == "queued"


def test_app_unknown_interview_id_is_explained(env):
    at = app(interview=42)
    assert not at.exception
    assert any("42" in w.value for w in at.warning)


def test_app_password_gate(env, monkeypatch):
    monkeypatch.setenv("INTERVIEW_ANALYZER_PASSWORD", "s3cret")
    at = app()
    assert not at.file_uploader  # nothing but the login form
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert any(EN("wrong_password") in e.value for e in at.error)
    at.text_input[0].input("s3cret")
    at.button[0].click().run()
    assert not at.exception and at.file_uploader


def test_app_upload_a_recording_then_review_it(env, monkeypatch):
    at = upload(app(), "call.ogg", RECORDING.read_bytes(), candidate="Sample")
    assert not at.exception
    iid = int(at.query_params["interview"])
    interview = env.get_interview(iid)
    assert interview.source_kind == "recording" and round(interview.duration_s) == 117
    assert at.get("progress")  # queued, shown with a progress bar

    data = json.loads(TRUTH.read_text())
    transcript = transcript_from_dict(data)
    worker = Worker(env, WorkerOptions(), transcriber=lambda path, options, progress: transcript)
    assert worker.run_once().status == "done"
    at = app(interview=iid)
    assert not at.exception
    assert len(at.get("audio")) == 1


def test_app_duplicate_flags_are_shown_once(env):
    from analyzer.pipeline import analyze_transcript

    transcript = read_transcript(SAMPLE_EN)
    report = analyze_transcript(transcript)
    i = next(n for n, q in enumerate(report.questions) if q.signals)
    q = report.questions[i]
    doubled = dataclasses.replace(q, signals=q.signals + q.signals[:1])
    report = dataclasses.replace(report, questions=report.questions[:i] + (doubled,) + report.questions[i + 1:])
    iid = env.save_analysis(SAMPLE_EN, transcript, report)
    at = app(interview=iid)
    assert not at.exception  # no DuplicateWidgetID
    at.selectbox(key=f"filter-{iid}").select(q.competency).run()
    shown = [b.key for b in at.button_group if b.key and b.key.startswith("d-")]
    assert len(shown) == len(set(shown)) == len({(e.index, s.signal, s.rule_id, s.start_char, s.end_char)
                                                 for e in report.questions if e.competency == q.competency
                                                 for s in e.signals})


def test_app_pages_long_flag_lists(env):
    from analyzer.pipeline import analyze_transcript

    base = read_transcript(SAMPLE_RU)
    shift = max(t.end for t in base.turns) + 5
    turns = base.turns + tuple(dataclasses.replace(t, start=t.start + shift, end=t.end + shift) for t in base.turns)
    transcript = dataclasses.replace(base, turns=turns)
    report = analyze_transcript(transcript)
    total = len({(q.index, s.signal, s.rule_id, s.start_char, s.end_char) for q in report.questions for s in q.signals})
    assert total > 30
    iid = env.save_analysis(SAMPLE_RU, transcript, report)
    at = app(interview=iid)
    assert not at.exception
    decisions = lambda: [b for b in at.button_group if b.key and b.key.startswith("d-")]  # noqa: E731
    assert len(decisions()) == 30
    last = -(-total // 30)
    at.pagination[0].select(last).run()
    assert not at.exception
    assert len(decisions()) == total - 30 * (last - 1)
