"""``gradfit fit --help`` names the history file's columns as ``fit`` writes them (it
left out ``restored``, the column that marks the epoch early stopping kept)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradfit.cli import cli


def test_the_help_names_the_history_columns_fit_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sine = "".join(f"{i / 10!r},{4 * math.sin(i / 10)!r}\n" for i in range(40))
    Path("d.csv").write_text("x,y\n" + sine)
    runner = CliRunner()
    fitted = runner.invoke(cli, ["fit", "d.csv", "--target", "y", "--out", "m.safetensors",
                                 "--epochs", "3", "--no-plots"])  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    with open("m.history.csv", newline="") as file:
        header = next(csv.reader(file))
    assert header == ["epoch", "loss", "val_loss", "restored"]
    help_text = " ".join(runner.invoke(cli, ["fit", "--help"]).stdout.split())
    assert f"NAME.history.csv ({', '.join(header)})" in help_text
