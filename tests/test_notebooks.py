"""The calibration notebooks run top to bottom on the sample decisions, and are committed without outputs."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MODEL = ROOT / "models" / "thresholds.yaml"
NAMES = ["calibrate_thresholds.ipynb", "explore_decisions.ipynb"]


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _text(nb) -> str:
    return "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
                     if out.get("output_type") == "stream")


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_run_top_to_bottom(name):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    before = _digest(MODEL)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError naming the cell when one fails
    assert _digest(MODEL) == before, "a notebook wrote over models/thresholds.yaml without WRITE_MODEL"
    if name == "calibrate_thresholds.ipynb":
        from analyzer.thresholds import load_thresholds

        match = re.search(r"wrote (.+?thresholds\.yaml): version", _text(nb))
        assert match, _text(nb)
        written = Path(match.group(1))
        assert written.parent != MODEL.parent
        assert "calibrated" in load_thresholds(written).version
        written.unlink()
        written.parent.rmdir()


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_committed_without_outputs(name):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"
