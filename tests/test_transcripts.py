from __future__ import annotations

import json

import pytest

from analyzer.errors import TranscriptError
from analyzer.records import Transcript, Turn, Word
from analyzer.transcripts import parse_plain, read_transcript, transcript_from_dict, write_transcript


@pytest.mark.parametrize("name", ["zoom.vtt"])
def test_transcripts_zoom_vtt_merges_cues_of_one_speaker(data_dir, name):
    t = read_transcript(data_dir / name)
    assert t.speakers == ["Anna Petrova", "Daniel Kim"]
    # cues 4 and 5 are one answer
    assert [turn.speaker for turn in t.turns] == ["Anna Petrova", "Daniel Kim", "Anna Petrova", "Daniel Kim", "Anna Petrova", "Daniel Kim"]
    answer = t.turns[3]
    assert answer.text.startswith("Sure. Last year") and answer.text.endswith("together.")
    assert answer.start == pytest.approx(12.4) and answer.end == pytest.approx(22.5)


@pytest.mark.parametrize("name", ["teams.vtt"])
def test_transcripts_teams_vtt_reads_voice_tags(data_dir, name):
    t = read_transcript(data_dir / name)
    assert t.speakers == ["Анна Петрова", "Игорь Смирнов"]
    assert "<v" not in t.text and "</v>" not in t.text
    assert t.turns[3].text == "Я понял, что мне не хватает роста. Например, за год я не получил ни одного нового проекта. Поэтому решил уйти."
    assert t.turns[3].end == pytest.approx(19.0)


@pytest.mark.parametrize("name", ["interview.srt"])
def test_transcripts_srt_reads_speakers_and_times(data_dir, name):
    t = read_transcript(data_dir / name)
    assert t.speakers == ["Interviewer", "Candidate"]
    assert len(t.turns) == 4
    assert t.turns[1].start == pytest.approx(4.0)
    assert t.turns[3].text.startswith("A client left us in March")


@pytest.mark.parametrize("name", ["plain_ru.txt"])
def test_transcripts_plain_text_continuation_lines_and_stamps(data_dir, name):
    t = read_transcript(data_dir / name)
    assert t.speakers == ["Интервьюер", "Кандидат"]
    explain = t.turns[3]
    # the unlabelled line continues the candidate's turn, and its inner colon is no speaker
    assert explain.text.endswith("вот что я имею в виду.")
    assert explain.start == 13.0 and explain.end == 30.0
    # two consecutive interviewer lines are one turn
    assert t.turns[4].text == "Понятно, спасибо. Какие у тебя зарплатные ожидания?"


def test_transcripts_plain_text_hour_stamps():
    turns = parse_plain("[01:02:03] A: hello there\n[1:02:10] B: hi\n")
    assert turns[0].start == 3723.0 and turns[0].end == 3730.0


def test_transcripts_json_round_trip_keeps_words(tmp_path, data_dir):
    t = read_transcript(data_dir / "asr.json")
    assert t.language == "en" and t.turns[1].words[0] == Word("for", 3.5, 3.7, 0.3)
    out = write_transcript(t, tmp_path / "t.json")
    again = read_transcript(out)
    assert again.turns == t.turns
    assert not (tmp_path / "t.json.tmp").exists()


def test_transcripts_json_schema_errors_name_the_turn():
    with pytest.raises(TranscriptError, match=r"turns\[1\] needs a 'speaker'"):
        transcript_from_dict({"turns": [{"speaker": "A", "text": "x"}, {"text": "y"}]})
    with pytest.raises(TranscriptError, match="format"):
        transcript_from_dict({"format": "something-else", "turns": []})


def test_transcripts_detects_vtt_content_behind_a_txt_extension(tmp_path, data_dir):
    p = tmp_path / "export.txt"
    p.write_text((data_dir / "zoom.vtt").read_text())
    assert read_transcript(p).speakers == ["Anna Petrova", "Daniel Kim"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"   \n\n", "whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"A: only one speaker here\nA: still me\n", "only one speaker"),
        (b"no speaker prefix at all", "no speaker"),
    ],
)
def test_transcripts_bad_input_is_one_clear_error(tmp_path, content, message):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(TranscriptError, match=message) as info:
        read_transcript(p)
    assert str(p) in str(info.value) and "\n" not in str(info.value)


def test_transcripts_unknown_extension_and_missing_file(tmp_path):
    p = tmp_path / "notes.docx"
    p.write_text("A: hi\nB: hi\n")
    with pytest.raises(TranscriptError, match="unknown transcript format"):
        read_transcript(p)
    with pytest.raises(TranscriptError, match="no such file"):
        read_transcript(tmp_path / "missing.vtt")


def test_transcripts_windows_1251_export_is_read(tmp_path):
    p = tmp_path / "cp.txt"
    p.write_bytes("Интервьюер: Привет\nКандидат: Здравствуйте\n".encode("cp1251"))
    assert read_transcript(p).speakers == ["Интервьюер", "Кандидат"]


def test_transcripts_to_dict_is_the_json_schema():
    t = Transcript(turns=(Turn("A", "hi", 0.0, 1.0, (Word("hi", 0.0, 1.0, 0.9),), 0.8),), language="en")
    d = t.to_dict()
    assert d["format"] == "interview-analyzer/transcript" and d["version"] == 1
    assert d["turns"][0] == {"speaker": "A", "start": 0.0, "end": 1.0, "text": "hi", "confidence": 0.8,
                             "words": [{"text": "hi", "start": 0.0, "end": 1.0, "probability": 0.9}]}
    json.dumps(d)


def test_transcripts_cue_continuation_with_a_colon_and_sound_tags_stay_with_the_speaker(tmp_path):
    vtt = tmp_path / "z.vtt"
    vtt.write_text(
        "WEBVTT\n\nNOTE exported by Zoom\n\n1\n00:00:00.000 --> 00:00:02.000\nRecording in progress.\n\n"
        "2\n00:00:02.000 --> 00:00:05.000 align:start position:0%\nTom Reed: Tell me about a time a client was unhappy?\n\n"
        "3\n00:00:05.000 --> 00:00:09.000\nPriya Nair: Last year a client was angry.\nMy first step: I called him &amp; apologised.\n\n"
        "4\n00:00:09.000 --> 00:00:10.000\n[laughs]\n\n"
        "5\n00:00:10.000 --> 00:00:12.000\nTom Reed: And then?\n\n"
        "6\n00:00:12.000 --> 00:00:14.000\nPriya Nair: <00:00:12.500>Then he renewed.\n",
        encoding="utf-8",
    )
    t = read_transcript(vtt)
    assert t.speakers == ["Tom Reed", "Priya Nair"]
    assert t.turns[1].text == "Last year a client was angry. My first step: I called him & apologised."
    assert t.turns[3].text == "Then he renewed."


def test_transcripts_plain_text_empty_turn_no_space_and_a_one_time_speaker(tmp_path):
    p = tmp_path / "p.txt"
    p.write_text("Interviewer:Tell me about yourself?\nCandidate:\nInterviewer: Why did you leave?\n"
                 "Candidate: I wanted to grow.\nHR Manager: May I add a question?\nCandidate: Sure.\n", encoding="utf-8")
    t = read_transcript(p)
    assert t.speakers == ["Interviewer", "Candidate", "HR Manager"]
    assert [turn.text for turn in t.turns][:2] == ["Tell me about yourself? Why did you leave?", "I wanted to grow."]


def test_transcripts_decomposed_unicode_is_composed(tmp_path):
    import unicodedata

    p = tmp_path / "nfd.txt"
    p.write_text(unicodedata.normalize("NFD", "Интервьюер: А что ещё?\nКандидат: Ещё позвоню.\n"), encoding="utf-8")
    t = read_transcript(p)
    assert t.turns[0].text == "А что ещё?" and unicodedata.is_normalized("NFC", t.text)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"metadata": ["x"], "turns": []}, "'metadata' must be an object"),
        ({"duration_s": "12:00", "turns": []}, "'duration_s' must be a number"),
        ({"turns": [{"speaker": "A", "text": "x", "start": float("nan")}]}, "not a finite number"),
        ({"turns": [{"speaker": "A", "text": "x", "start": 30.0, "end": 28.0}]}, "ends .* before it starts"),
    ],
)
def test_transcripts_malformed_json_fields_are_one_line_errors(data, message):
    with pytest.raises(TranscriptError, match=message):
        transcript_from_dict(data)
