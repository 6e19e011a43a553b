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
