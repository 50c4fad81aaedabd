"""The README's table of bad input (issues 12 and 13): each command, run in a folder of
the files it names, prints exactly the README's line and exits with its code."""

from __future__ import annotations

import math
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
TABLE = "| command | what `gradfit` prints | exit |"


def rows() -> list[tuple[str, str, int]]:
    """``(command, error line, exit code)`` of the README's table of bad input."""
    text = README.read_text(encoding="utf-8").split(TABLE, 1)[1]
    found = []
    for line in text.splitlines()[2:]:
        if not line.startswith("| `gradfit "):
            break
        match = re.fullmatch(r"\| `(.*)` \| `(.*)` \| (\d+) \|", line)
        assert match is not None, line
        found.append((match[1], match[2], int(match[3])))
    return found


def make_files(folder: Path) -> None:
    """The files the table's commands name."""
    sine = "".join(f"{i / 10!r},{4 * math.sin(i / 10)!r}\n" for i in range(40))
    (folder / "d.csv").write_text("x,y\n" + sine)
    (folder / "ragged.csv").write_text(
        "x,y\n" + "".join(f"{i},{i + 1},{i + 2}\n" for i in range(5))
    )
    (folder / "holes.csv").write_text("x,y\n1,2\n,3\n4,\n5,6\nNaN,7\n")
    (folder / "semi.csv").write_text("x;y\n" + sine.replace(",", ";"))
    (folder / "latin.csv").write_bytes("city,y\nBonn,1\nCréteil,2\n".encode("latin-1"))
    (folder / "dups.csv").write_text("x,x,y\n1,2,3\n4,5,6\n")
    colours = zip(range(30), ["red", "green", "blue"] * 10, strict=True)
    (folder / "train.csv").write_text(
        "x,colour,y\n" + "".join(f"{i},{c},{2 * i}\n" for i, c in colours)
    )
    (folder / "new.csv").write_text("x,colour\n1,purple\n")
    (folder / "ids.csv").write_text("name,x,y\n" + "".join(f"n{i},{i},{i}\n" for i in range(40)))
    (folder / "huge.csv").write_text("x,y\n" + "".join(f"{i * 1e160},{i}\n" for i in range(10)))
    (folder / "bad.npy").write_bytes(b"\0" * 64)
    os.mkfifo(folder / "fifo.csv")
    (folder / "link.csv").symlink_to("d.csv")
    (folder / "models").mkdir()
    (folder / "ro.csv").write_text("id\n1\n")
    (folder / "ro.csv").chmod(0o444)


def test_the_table_has_the_rows_of_both_issues() -> None:
    assert len(rows()) >= 19


@pytest.mark.parametrize(("command", "line", "code"), rows(), ids=[r[0][8:40] for r in rows()])
def test_each_bad_input_prints_the_readme_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, line: str, code: int
) -> None:
    monkeypatch.chdir(tmp_path)
    make_files(tmp_path)
    runner = CliRunner()
    for model, data in (("m.safetensors", "d.csv"), ("c.safetensors", "train.csv")):
        fitted = runner.invoke(cli, ["fit", data, "--target", "y", "--out", model, "--epochs", "5",
                                     "--no-plots"])  # fmt: skip
        assert fitted.exit_code == 0, fitted.output
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    words = shlex.split(command)
    if "--nproc-per-node" in words:
        # The ranks are processes of their own: run the command as a user does.
        pytest.importorskip("torch")
        done = subprocess.run([sys.executable, "-m", "gradfit", *words[1:]],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        exit_code, stderr, output = done.returncode, done.stderr, done.stdout + done.stderr
    else:
        result = runner.invoke(cli, words[1:], catch_exceptions=False)
        exit_code, stderr, output = result.exit_code, result.stderr, result.output
    assert exit_code == code
    lines = stderr.splitlines()
    assert lines[-1] == line
    assert all(re.match(r"gradfit: (warning|note): ", other) for other in lines[:-1]), lines
    assert "Traceback" not in output
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # no input, and no good output, was changed or added
