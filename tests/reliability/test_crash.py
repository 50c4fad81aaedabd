"""A crash half-way through writing a checkpoint leaves the previous one whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from runs import assert_same_state, make_trainer

from gradfit.errors import ModelFileError
from gradfit.io.checkpoint import load_checkpoint, save_checkpoint


class _HalfThenFail:
    """A file that writes half of what it is given, then fails as a full disk does."""

    def __init__(self, f: Any) -> None:
        self.f = f

    def write(self, data: bytes) -> int:
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError(28, "No space left on device")

    def __enter__(self) -> _HalfThenFail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


def test_a_write_failing_half_way_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.ckpt"
    trainer = make_trainer("numpy", batch_size=8)
    trainer.fit(2)
    save_checkpoint(path, trainer)
    saved = path.read_bytes()
    expected = load_checkpoint(path)

    trainer.fit(3)
    fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _HalfThenFail(fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(path, trainer)
    monkeypatch.undo()

    assert path.read_bytes() == saved
    assert_same_state(load_checkpoint(path), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"], "no temporary file left"


KILLED_MID_WRITE = """
    import os, sys, time
    from runs import make_trainer
    from gradfit.io.checkpoint import save_checkpoint

    path = sys.argv[1]
    trainer = make_trainer("numpy", batch_size=8)
    trainer.fit(2)
    save_checkpoint(path, trainer)
    trainer.fit(3)
    real = os.fdopen

    class Stall:
        def __init__(self, f):
            self.f = f
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()
        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            os.fsync(self.f.fileno())
            print("half written", flush=True)
            time.sleep(60)

    os.fdopen = lambda *a, **k: Stall(real(*a, **k))
    save_checkpoint(path, trainer)
"""


def test_a_process_killed_mid_write_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "run.ckpt"
    # The tests' own directory first, then whatever path the tests run with.
    search = os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    env = os.environ | {"PYTHONPATH": search}
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_MID_WRITE), str(path)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "half written\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    expected = make_trainer("numpy", batch_size=8)
    expected.fit(2)
    assert_same_state(load_checkpoint(path), expected.state_dict())
    # The killed process could not clean up its temporary file; it is half a file,
    # hidden beside the checkpoint, and refused as such if anyone loads it.
    (stray,) = (p for p in tmp_path.iterdir() if p.name != "run.ckpt")
    assert stray.name.startswith(".run.ckpt.")
    with pytest.raises(ModelFileError, match="truncated"):
        load_checkpoint(stray)
