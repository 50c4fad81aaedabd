"""The README's console sessions as the tests run them: each command, and the lines the
README shows it printing."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

README = Path(__file__).parents[1] / "README.md"


def console_session(heading: str) -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` of the first ``console`` block after the
    README's line ``heading`` (e.g. ``"## The command line"``)."""
    section = README.read_text(encoding="utf-8").split(heading + "\n", 1)[1]
    block = re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL)[0]
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def run(command: str) -> list[str]:
    """The lines a ``python …`` or ``gradfit …`` command of a session prints (it must
    succeed): Python in a subprocess, gradfit through click's runner in this process."""
    from gradfit.cli import cli

    words = shlex.split(command)
    if words[0] == "python":
        done = subprocess.run([sys.executable, *words[1:]], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()
    assert words[0] == "gradfit", command
    result = CliRunner().invoke(cli, words[1:], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()
