"""The README's first table of bad input ("**Bad input.**", under "The command line"):
each row's mistake, made against a good model ``keep.safetensors``, prints the README's
line, exits with its code, and leaves ``keep.safetensors`` byte for byte as it was.

The table names each mistake in words, not as a command (its commands are here, by row);
its row of 'a file that is not a model' said "the header claims … bytes" long after the
loader began to say that a text file is text."""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradfit.cli import cli

README = Path(__file__).parents[2] / "README.md"
TABLE = "| input | what `gradfit` prints | exit |"

FIT = "fit {data} --target y --out keep.safetensors --no-plots"
COMMANDS = {
    "a missing file": FIT.format(data="missing.csv"),
    "a non-numeric cell": FIT.format(data="text.csv"),
    "an empty cell or NaN": FIT.format(data="hole.csv"),
    "inf": FIT.format(data="inf.csv"),
    "an empty file": FIT.format(data="empty.csv"),
    "a header only": FIT.format(data="header.csv"),
    "one row": FIT.format(data="one.csv"),
    "no target column": FIT.format(data="noy.csv"),
    "predict without a feature column": "predict keep.safetensors nox.csv --out p.csv",
    "output in a missing folder": "fit d.csv --target y --out nowhere/model.safetensors",
    "a file that is not a model (the text `not a model`)": (
        "predict fake.safetensors d.csv --out p.csv"
    ),
    "a missing model": "predict missing.safetensors d.csv --out p.csv",
    "`--solver sgd --lr 5`": FIT.format(data="d.csv") + " --solver sgd --lr 5",
}


def rows() -> list[tuple[str, str, int]]:
    """``(input, printed line, exit code)`` of each row of the README's table."""
    text = README.read_text(encoding="utf-8").split(TABLE, 1)[1]
    found = []
    for line in text.splitlines()[2:]:
        if not line.startswith("| "):
            break
        match = re.fullmatch(r"\| (.*) \| `(.*)` \| (\d+) \|", line)
        assert match is not None, line
        found.append((match[1], match[2], int(match[3])))
    return found


def make_files(folder: Path) -> None:
    """The files the rows name, beside ``d.csv``: 40 points of 4 sin x."""
    sine = "".join(f"{i / 10!r},{4 * math.sin(i / 10)!r}\n" for i in range(40))
    files = {
        "d.csv": "x,y\n" + sine,
        "text.csv": "x,y\n1,2\n2,abc\n3,4\n",
        "hole.csv": "x,y\n1,2\n,3\n3,4\n",
        "inf.csv": "x,y\n1,2\n2,inf\n3,4\n",
        "empty.csv": "",
        "header.csv": "x,y\n",
        "one.csv": "x,y\n1,2\n",
        "noy.csv": "x,z\n1,2\n2,3\n",
        "nox.csv": "t,y\n1,2\n2,3\n",
        "fake.safetensors": "not a model",
    }
    for name, text in files.items():
        (folder / name).write_text(text)


def test_every_row_has_a_command() -> None:
    assert [row[0] for row in rows()] == list(COMMANDS)


@pytest.mark.parametrize(("mistake", "line", "code"), rows(), ids=[r[0][:30] for r in rows()])
def test_each_mistake_prints_the_readme_line_and_keeps_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mistake: str, line: str, code: int
) -> None:
    monkeypatch.chdir(tmp_path)
    make_files(tmp_path)
    runner = CliRunner()
    fitted = runner.invoke(cli, shlex.split(FIT.format(data="d.csv")))
    assert fitted.exit_code == 0, fitted.output
    kept = (tmp_path / "keep.safetensors").read_bytes()
    result = runner.invoke(cli, shlex.split(COMMANDS[mistake]), catch_exceptions=False)
    assert result.exit_code == code
    assert result.stderr.splitlines()[-1] == line
    assert "Traceback" not in result.output
    assert (tmp_path / "keep.safetensors").read_bytes() == kept
