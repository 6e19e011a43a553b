from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from analyzer.cli import main


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("name, language", [("zoom.vtt", "en"), ("teams.vtt", "ru"), ("interview.srt", "en"), ("plain_ru.txt", "ru"), ("asr.json", "en")])
def test_cli_analyze_every_format_gives_json_on_stdout(run, data_dir, name, language):
    result = run("analyze", data_dir / name)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["language"] == language and report["questions"]
    assert len(report["competencies"]) == 10


@pytest.mark.parametrize("fmt, marker", [("md", "# Interview report"), ("csv", "entry,question_kind")])
def test_cli_analyze_writes_other_formats_to_a_file(run, data_dir, tmp_path, fmt, marker):
    out = tmp_path / f"report.{fmt}"
    result = run("analyze", data_dir / "zoom.vtt", "--format", fmt, "-o", out)
    assert result.exit_code == 0 and out.read_text().startswith(marker)


def test_cli_interviewer_override(run, data_dir):
    result = run("analyze", data_dir / "zoom.vtt", "--interviewer", "Daniel Kim")
    assert json.loads(result.stdout)["speakers"]["interviewer"] == "Daniel Kim"


def _bad_inputs(tmp_path, data_dir):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.vtt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4 A: x\nB: y")
    (tmp_path / "solo.txt").write_text("Interviewer: hello?\nInterviewer: anyone?\n")
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text("id: x\nversion: 1\ntitle: {en: X}\nsignals: {}\ncompetencies: []\n")
    return [
        (["analyze", tmp_path / "empty.txt"], "empty"),
        (["analyze", tmp_path / "binary.vtt"], "binary"),
        (["analyze", tmp_path / "notes.pdf"], "unknown transcript format"),
        (["analyze", tmp_path / "solo.txt"], "only one speaker"),
        (["analyze", tmp_path / "missing.vtt"], "no such file"),
        (["analyze", data_dir / "zoom.vtt", "--rubric", rubric], "missing required field 'signals'"),
        (["rubric", "check", rubric], "missing required field"),
        (["analyze", data_dir / "zoom.vtt", "--interviewer", "Nobody"], "not a speaker"),
    ]


def test_cli_bad_input_is_one_line_exit_1_no_traceback(tmp_path, data_dir):
    for args, message in _bad_inputs(tmp_path, data_dir):
        proc = subprocess.run([sys.executable, "-m", "analyzer", *map(str, args)], capture_output=True, text=True)
        assert proc.returncode == 1, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], (args, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_cli_failed_run_leaves_existing_output_untouched(run, tmp_path):
    out = tmp_path / "report.json"
    out.write_text("previous report")
    (tmp_path / "empty.txt").write_text("")
    result = CliRunner().invoke(main, ["analyze", str(tmp_path / "empty.txt"), "-o", str(out)])
    assert result.exit_code == 1 and out.read_text() == "previous report"


def test_cli_rubric_check_summarises(run):
    result = run("rubric", "check", "analyzer/rubric/account_manager.yaml")
    assert result.exit_code == 0 and "10 competencies" in result.output


def test_cli_every_command_has_help_with_an_example():
    def walk(cmd: click.Command, path: str):
        yield path, cmd
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, f"{path} {name}")

    for path, cmd in walk(main, "interview-analyzer"):
        assert cmd.help and "Example" in cmd.help, path


def test_cli_eval_prints_the_figures(run):
    result = run("eval", "sample_data/dev", "--json")
    data = json.loads(result.stdout)
    assert data["dev"]["bank_competency_accuracy"] > 0.5


def test_cli_eval_malformed_labels_and_output_folder_are_one_line_errors(tmp_path, data_dir):
    (tmp_path / "answers_x.yaml").write_text("language: en\nanswers:\n  - id: x\n    signals: [example]\n")
    for args, message in [(["eval", tmp_path], "malformed labels"),
                          (["analyze", data_dir / "zoom.vtt", "-o", tmp_path], "is a folder")]:
        proc = subprocess.run([sys.executable, "-m", "analyzer", *map(str, args)], capture_output=True, text=True)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert not list(tmp_path.parent.glob(f"{tmp_path.name}.tmp"))


def test_cli_a_turn_of_only_punctuation_is_analysed(tmp_path):
    p = tmp_path / "dots.txt"
    p.write_text("Interviewer: How do you explain a complex product?\nCandidate: ...\nInterviewer: What else?\n"
                 "Candidate: I closed 12 deals and grew revenue by 20%.\n")
    result = CliRunner().invoke(main, ["analyze", str(p)], catch_exceptions=False)
    assert result.exit_code == 0 and len(json.loads(result.stdout)["questions"]) == 2
