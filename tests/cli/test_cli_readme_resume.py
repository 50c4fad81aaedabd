"""The README's Ctrl-C session ("**Ctrl-C and resuming.**", under "The command line").

Where Ctrl-C lands depends on the clock, but not what the resumed run prints: a resume
ends bit for bit where the uninterrupted run does (``test_cli_end_to_end.py`` interrupts a
real process and checks that). So the command run whole must print the lines the README
shows after ``--resume``."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gradfit.cli import cli
from readme_session import README, assert_prints


def session() -> tuple[str, str, list[str]]:
    """``(command, its Ctrl-C line, what the resumed command prints)``."""
    text = README.read_text(encoding="utf-8").split("**Ctrl-C and resuming.**", 1)[1]
    block = re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL)[0].splitlines()
    command, interrupt, error, resume, *printed = block
    assert interrupt == "^C"
    assert resume.startswith("$ gradfit fit big.csv ") and resume.endswith(" --resume")
    return command.removeprefix("$ "), error, printed


def test_the_resumed_run_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command, error, printed = session()
    assert re.fullmatch(
        r"gradfit: error: interrupted after epoch \d+; the checkpoint is saved in "
        r"'big.checkpoint.safetensors': run the same command with --resume to continue",
        error,
    )
    monkeypatch.chdir(tmp_path)
    # What the README says big.csv is: 600 rows of y = 4 sin x + N(0, 1), x on [-5, 5], seed 0.
    r = np.random.default_rng(0)
    x = r.uniform(-5, 5, 600)
    pd.DataFrame({"x": x, "y": 4 * np.sin(x) + r.normal(0, 1, 600)}).to_csv("big.csv", index=False)
    result = CliRunner().invoke(cli, shlex.split(command)[1:], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert_prints(result.stdout.splitlines(), printed, command)
