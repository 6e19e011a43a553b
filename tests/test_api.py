import analyzer


def test_api_all_is_complete_and_importable():
    public = {n for n in dir(analyzer) if not n.startswith("_") and n not in {"annotations"}}
    modules = {n for n in public if type(getattr(analyzer, n)).__name__ == "module"}
    assert set(analyzer.__all__) - {"__version__"} == public - modules
    for name in analyzer.__all__:
        assert getattr(analyzer, name) is not None
