"""The README's first command-line session runs and prints what the README shows."""

from __future__ import annotations

import os
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
