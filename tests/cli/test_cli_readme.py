"""The README's first command-line session runs and prints what the README shows."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from readme_session import assert_prints, console_session, run


def test_the_fit_and_evaluate_session_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    for command, expected in console_session("## The command line"):
        assert_prints(run(command), expected, command)
    assert sorted(os.listdir(tmp_path))[:3] == [
        "diabetes.history.csv",
        "diabetes.loss.png",
        "diabetes.safetensors",
    ]


WORDS = {6: "six", 7: "seven", 8: "eight", 9: "nine"}


def test_the_readme_table_of_commands_names_every_command() -> None:
    """The table under "## The command line" has a row per command of ``gradfit``, and
    the sentence above it counts them (it said six while the playground was a seventh)."""
    from gradfit.cli import cli

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The command line\n", 1)[1]
    table = section.split("| command | what it does |\n", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `gradfit (\w+)", table, flags=re.MULTILINE)
    assert rows == ["fit", "predict", "evaluate", "demo", "gradcheck", "report", "playground"]
    assert sorted(rows) == sorted(cli.commands)
    assert f"has {WORDS[len(rows)]} commands" in section.split("| command |", 1)[0]


def test_fit_help_says_ctrl_c_stops_at_the_end_of_the_epoch() -> None:
    """The trainer defers Ctrl-C to the end of the epoch (``Trainer.fit``); the help said
    'batch'."""
    from click.testing import CliRunner

    from gradfit.cli import cli

    text = " ".join(CliRunner().invoke(cli, ["fit", "--help"]).stdout.split())
    assert "Ctrl-C stops at the end of the current epoch" in text


def test_the_first_fit_session_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shell half of the README's "A first fit": the same problem as a CSV file."""
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    for command, expected in console_session("## A first fit"):
        assert_prints(run(command), expected, command)
    assert (tmp_path / "predictions.csv").read_text().splitlines()[0] == "y,y_lower,y_upper"
