"""``--distributed --resume`` refuses a checkpoint of another run, naming the difference,
as plain ``fit --resume`` does (issue 13, group 2); data errors under torchrun are one
line from rank 0 and exit 3 from every rank (group 18)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

from gradfit.errors import RunMismatchError
from gradfit.torch_backend.distributed import fit

pytestmark = pytest.mark.torch
RUN = {"target": ["3"], "hidden": (4,), "epochs": 2, "batch_size": 8, "lr": 0.01, "seed": 1}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "data.npy"
    np.save(path, rng.normal(size=(32, 4)))
    return path


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"lr": 0.02}, "lr: 0.01 then, 0.02 now"),
        ({"activation": "tanh"}, "activation: 'relu' then, 'tanh' now"),
        ({"seed": 2}, "seed: 1 then, 2 now"),
        ({"hidden": (5,)}, "hidden: [4] then, [5] now"),
        ({"target": ["2"]}, "targets: ['3'] then, ['2'] now"),
        ({"features": ["2", "1", "0"]}, "features: ['0', '1', '2'] then, ['2', '1', '0'] now"),
    ],
)
def test_a_checkpoint_of_another_run_is_refused(
    data: Path, tmp_path: Path, change: dict[str, Any], fragment: str
) -> None:
    checkpoint = tmp_path / "run.ckpt"
    fit(data, **RUN, checkpoint=checkpoint)
    before = checkpoint.read_bytes()
    with pytest.raises(RunMismatchError, match="belongs to another run") as info:
        fit(data, **(RUN | change | {"epochs": 4}), checkpoint=checkpoint, resume=True)
    assert fragment in str(info.value)
    assert checkpoint.read_bytes() == before


def test_an_edited_data_file_is_another_run(data: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.ckpt"
    fit(data, **RUN, checkpoint=checkpoint)
    A = np.load(data)
    A[5, 1] += 1.0  # same shape, same rows and chunks: only the digest tells
    np.save(data, A)
    with pytest.raises(RunMismatchError, match=r"data: sha256 [0-9a-f]{64} then, sha256"):
        fit(data, **(RUN | {"epochs": 4}), checkpoint=checkpoint, resume=True)


def test_the_same_run_resumes(data: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.ckpt"
    fit(data, **RUN, checkpoint=checkpoint)
    _, history = fit(data, **(RUN | {"epochs": 4}), checkpoint=checkpoint, resume=True)
    assert history.epochs == 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_data_error_under_torchrun_is_one_line_and_exit_3_from_every_rank(
    data: Path, tmp_path: Path
) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
        "-m", "gradfit", "fit", str(data), "--target", "9", "--distributed",
        "--backend", "torch", "--out", str(tmp_path / "m.safetensors"),
    ]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    errors = [line for line in done.stderr.splitlines() if line.startswith("gradfit: error:")]
    assert errors == [
        f"gradfit: error: {data}: column(s) '9' not found; the file has '0', '1', '2', '3'"
    ]
    assert "gloo" not in done.stderr.lower() and "DistBackendError" not in done.stderr
    # torchrun reports the failed ranks' exit codes: 3 (bad data) from every rank that
    # ends by itself; torchrun stops the others (SIGTERM, -15) once one has failed.
    codes = re.findall(r"exitcode\s*:\s*(-?\d+)", done.stderr)
    assert "3" in codes and set(codes) <= {"3", "-15"}, done.stderr[-2000:]
    assert not (tmp_path / "m.safetensors").exists()
