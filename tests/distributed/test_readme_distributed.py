"""The README's ``--distributed`` session runs and prints what the README shows: the
same lines from 2 processes under torchrun (rank 0 alone prints) as from one."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from _launch import environment, torchrun
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from gradfit.cli import cli

pytestmark = pytest.mark.torch
README = Path(__file__).parents[2] / "README.md"


def session() -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` of the section's first ``console`` block."""
    section = README.read_text(encoding="utf-8").split("## Data-parallel training", 1)[1]
    block = re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL)[0]
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def test_the_distributed_session_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    steps = session()
    assert [shlex.split(c)[0] for c, _ in steps] == ["python", "torchrun", "gradfit"]
    for command, expected in steps:
        words = shlex.split(command)
        if words[0] == "python":
            done = subprocess.run([sys.executable, *words[1:]], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            printed = done.stdout
        elif words[0] == "torchrun":
            nproc = words[1].removeprefix("--nproc_per_node=")
            cmd = torchrun(int(nproc), *words[2:])
            done = subprocess.run(cmd, env=environment(), capture_output=True, text=True)
            assert done.returncode == 0, done.stderr[-3000:]
            printed = done.stdout
        else:
            result = CliRunner().invoke(cli, words[1:], catch_exceptions=False)
            assert result.exit_code == 0, result.stderr
            printed = result.stdout
        assert printed.splitlines() == expected, command
