"""The README's console sessions as the tests run them: each command, and the lines the
README shows it printing."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

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


def assert_prints(printed: list[str], expected: list[str], command: str) -> None:
    """``printed`` is what the README shows, ``expected``, within its printed precision.

    The words and layout must be the same (runs of spaces count as one: NumPy pads its
    columns to the widest number); each number may differ from the README's by one unit
    of its last printed digit, or by 1e-9 of itself (a number printed to all its digits
    rounds differently under another build of BLAS).
    """
    shape = [" ".join(NUMBER.sub("#", line).split()) for line in printed]
    assert shape == [" ".join(NUMBER.sub("#", line).split()) for line in expected], command
    for got_line, want_line in zip(printed, expected, strict=True):
        for got, want in zip(NUMBER.findall(got_line), NUMBER.findall(want_line), strict=True):
            mantissa = want.lower().split("e")[0]
            digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
            exponent = int(want.lower().split("e")[1]) if "e" in want.lower() else 0
            unit = 10.0 ** (exponent - digits)
            tolerance = max(unit, 1e-9 * abs(float(want)))
            assert abs(float(got) - float(want)) <= tolerance, (command, got_line, want_line)
