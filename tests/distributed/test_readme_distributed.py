"""The README's ``--distributed`` session runs and prints what the README shows: the
same lines from 2 processes started by ``--nproc-per-node`` (rank 0 alone prints) as from
one."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from _launch import environment

from readme_session import assert_prints, console_session, run

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

pytestmark = pytest.mark.torch


def test_the_distributed_session_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    steps = console_session("## Data-parallel training, and data larger than memory")
    assert [shlex.split(c)[0] for c, _ in steps] == ["python", "gradfit", "gradfit"]
    assert "--nproc-per-node" in steps[1][0]
    for command, expected in steps:
        words = shlex.split(command)
        if "--nproc-per-node" in words:
            # Its ranks are processes of their own, writing to this process's stdout:
            # run in a subprocess to read what they print.
            cmd = [sys.executable, "-m", "gradfit", *words[1:]]
            done = subprocess.run(cmd, env=environment(), capture_output=True, text=True)
            assert done.returncode == 0, done.stderr[-3000:]
            printed = done.stdout.splitlines()
        else:
            printed = run(command)
        assert_prints(printed, expected, command)
