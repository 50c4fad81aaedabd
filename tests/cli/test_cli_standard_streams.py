"""Standard output that cannot be written (closed, full, a reader gone) and SIGTERM, in
real processes: one line and the documented exit status, never a traceback, and no
output left half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
from cli_helpers import ENV, assert_one_line_error, gradfit_command

import gradfit
from gradfit.engine import MLP


def _model_and_rows(tmp_path: Path, n_rows: int) -> tuple[Path, Path]:
    """A 1-4-1 network's model file and ``n_rows`` rows of one input as ``.npy``."""
    model = tmp_path / "m.safetensors"
    gradfit.save(MLP([1, 4, 1], "tanh", rng=np.random.default_rng(0)), model)
    rows = tmp_path / "x.npy"
    np.save(rows, np.linspace(-3, 3, n_rows).reshape(-1, 1))
    return model, rows


def _run(*args: object, **popen: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        gradfit_command(*args),
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
        **popen,  # type: ignore[call-overload]
    )


def test_a_closed_standard_output_is_refused_before_any_work(tmp_path: Path) -> None:
    # predict --out - >&- was an AttributeError traceback ('NoneType' object has no
    # attribute 'write'); evaluate >&- exited 0 with its scores lost.
    model, rows = _model_and_rows(tmp_path, 10)
    for args in (("predict", model, rows, "--out", "-"), ("fit", "--help")):
        done = _run(*args, preexec_fn=lambda: os.close(1))
        assert done.returncode == 2
        assert done.stderr == (
            "gradfit: error: standard output is closed (>&-), and gradfit writes its report "
            "(and predict --out -, its predictions) there; send it to /dev/null or a file "
            "instead\n"
        )


def test_help_to_a_full_device_is_one_line(tmp_path: Path) -> None:
    # gradfit --help > /dev/full was an OSError traceback from click's echo.
    with open("/dev/full", "w") as full:
        done = _run("--help", stdout=full)
    assert done.returncode == 1
    assert done.stderr == "gradfit: error: [Errno 28] No space left on device\n"


def test_predictions_to_a_reader_that_leaves_end_quietly_with_141(tmp_path: Path) -> None:
    model, rows = _model_and_rows(tmp_path, 200_000)  # more than a pipe's buffer holds
    process = subprocess.Popen(
        gradfit_command("predict", model, rows, "--out", "-"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == "prediction\n"
    process.stdout.close()  # as head does
    assert process.wait(timeout=120) == 141
    assert process.stderr.read() == ""


def test_sigterm_leaves_the_old_output_and_no_temporary_file(tmp_path: Path) -> None:
    # kill (SIGTERM) during predict left '.p.csv.XXXXXXXX.tmp', its half-written rows,
    # beside the user's p.csv, and said nothing (status -15).
    model, rows = _model_and_rows(tmp_path, 400_000)
    out = tmp_path / "p.csv"
    out.write_text("prediction\n0.5\n")
    process = subprocess.Popen(
        gradfit_command("predict", model, rows, "--out", out, "--chunk-rows", "500"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".p.csv.*")) and time.monotonic() < deadline:
        time.sleep(0.01)  # until predict has begun to write
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143
    assert_one_line_error(stderr)
    assert stderr == (
        "gradfit: error: stopped by SIGTERM; no output was left half-written (an output is "
        "written whole or not at all)\n"
    )
    assert out.read_text() == "prediction\n0.5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors", "p.csv", "x.npy"]
