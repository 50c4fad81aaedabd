"""The README's first command-line session runs and prints what the README shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradfit.cli import cli

README = Path(__file__).parents[2] / "README.md"


def session() -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` of the section's first ``console`` block."""
    section = README.read_text(encoding="utf-8").split("## The command line\n", 1)[1]
    block = re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL)[0]
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def test_the_fit_and_evaluate_session_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for command, expected in session():
        words = shlex.split(command)
        if words[0] == "python":
            done = subprocess.run([sys.executable, *words[1:]], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            printed = done.stdout
        else:
            assert words[0] == "gradfit"
            result = runner.invoke(cli, words[1:], catch_exceptions=False)
            assert result.exit_code == 0, result.stderr
            printed = result.stdout
        assert printed.splitlines() == expected, command
    assert sorted(os.listdir(tmp_path))[:3] == [
        "diabetes.history.csv",
        "diabetes.loss.png",
        "diabetes.safetensors",
    ]
