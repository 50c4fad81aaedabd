"""Helpers for the command-line tests: data files, a real subprocess, error checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import Result

Invoke = Callable[..., Result]
"""The ``invoke`` fixture: ``invoke(*args)`` runs ``gradfit args…`` in-process."""


def safetensors_bytes(note: str) -> bytes:
    """A file that reads as a safetensors file (its 8-byte header length, then the
    header): what ``fit`` may replace at ``--out``, as the model of an earlier run."""
    header = json.dumps({"__metadata__": {"note": note}}).encode()
    return len(header).to_bytes(8, "little") + header


GOOD_MODEL = safetensors_bytes("a good model file the user wants to keep")
"""An earlier run's model, which a failing run must leave alone."""


def write_sine_csv(path: Path, n: int = 40, seed: int = 0) -> Path:
    """``x, y`` with ``y = 4 sin x + noise``, as in the walk-through, seeded."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-5, 5, n)
    y = 4 * np.sin(x) + rng.normal(0, 1, n)
    lines = ["x,y"] + [f"{a!r},{b!r}" for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
"""The environment of a real ``gradfit`` process: one BLAS thread, no display."""


def gradfit_command(*args: object) -> list[str]:
    """``python -m gradfit args…`` as an argument list."""
    return [sys.executable, "-m", "gradfit", *map(str, args)]


def run_gradfit(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m gradfit args…`` in a real subprocess and wait for it."""
    return subprocess.run(
        gradfit_command(*args),
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    """stderr is one ``gradfit: error: …`` line holding every fragment, and no traceback."""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("gradfit: error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def edit_model_metadata(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite the gradfit metadata of the model file at ``path`` by hand: ``edit`` changes
    the document (``{"kind": …, "estimator": {"params": …, "spec": …, …}, …}``) in place."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    doc = json.loads(header["__metadata__"]["gradfit"])
    edit(doc)
    header["__metadata__"]["gradfit"] = json.dumps(doc)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n :])
