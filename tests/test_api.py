import subprocess
import sys

import analyzer


def test_api_all_is_complete_and_importable():
    public = {n for n in dir(analyzer) if not n.startswith("_") and n not in {"annotations"}}
    modules = {n for n in public if type(getattr(analyzer, n)).__name__ == "module"}
    assert set(analyzer.__all__) - {"__version__"} == public - modules
    for name in analyzer.__all__:
        assert getattr(analyzer, name) is not None


def test_api_importing_the_store_does_not_load_spacy():
    code = "import sys, analyzer.store; print('spacy' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
