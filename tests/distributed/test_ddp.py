"""Data-parallel training under torchrun: 2 CPU ranks (gloo, loopback) against one process.

One launch of two ranks trains every run in turn (starting torch costs seconds per
process); the resumed run is a new ``fit`` that starts from nothing but the checkpoint.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

torch = pytest.importorskip("torch")

from gradfit.engine.network import MLP  # noqa: E402
from gradfit.torch_backend import train  # noqa: E402
from gradfit.torch_backend.distributed import fit  # noqa: E402

WORKER = Path(__file__).with_name("_worker.py")
N_ROWS = 96


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(runs: list[dict[str, Any]], nproc: int = 2) -> str:
    """Run ``runs`` in ``nproc`` ranks started by torchrun on the loopback interface."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if sys.platform.startswith("linux"):
        env["GLOO_SOCKET_IFNAME"] = "lo"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={nproc}",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        str(WORKER),
        json.dumps(runs),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def result(out: Path, nproc: int = 2) -> tuple[list[np.ndarray], np.ndarray]:
    """The parameters and loss history the ranks saved, checked equal across ranks."""
    saved = []
    for rank in range(nproc):
        with np.load(f"{out}.rank{rank}.npz") as f:
            params = [f[f"param.{i}"] for i in range(len(f.files) - 2)]
            saved.append((params, f["loss"]))
    for params, loss in saved[1:]:
        for p, q in zip(params, saved[0][0], strict=True):
            assert_array_equal(p, q)
        assert_array_equal(loss, saved[0][1])
    return saved[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(N_ROWS, 3))
    Y = np.sin(X.sum(axis=1, keepdims=True)) + 0.1 * rng.normal(size=(N_ROWS, 1))
    path = tmp_path_factory.mktemp("ddp") / "data.npy"
    np.save(path, np.hstack([X, Y]))
    return path, X, Y


NET = {"target": ["-1"], "hidden": [8], "activation": "tanh", "dtype": "float64"}
RUNS: dict[str, dict[str, Any]] = {
    # One chunk: the order is the engine Trainer's; compared with the stock single process.
    "adam": {"epochs": 2, "batch_size": 16, "seed": 3, "optimizer": "adam", "lr": 0.01},
    # Several chunks, batches of 15 split 7 + 8 across the ranks.
    "chunked": {
        "epochs": 2,
        "batch_size": 15,
        "seed": 4,
        "chunk_rows": 20,
        "optimizer": "sgd",
        "lr": 0.05,
        "momentum": 0.9,
    },
    # Full batch of summed squared errors, each rank's 48 rows read in pieces of 20.
    "full": {
        "epochs": 3,
        "seed": 5,
        "chunk_rows": 20,
        "loss": "sse",
        "optimizer": "sgd",
        "lr": 1e-3,
    },
}


@pytest.fixture(scope="module")
def launched(
    data: tuple[Path, np.ndarray, np.ndarray], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = data[0]
    out = tmp_path_factory.mktemp("out")
    resume = {"epochs": 6, "batch_size": 16, "seed": 6, "optimizer": "adam", "lr": 0.02}
    runs = [{"data": str(path), "out": str(out / name), **NET, **run} for name, run in RUNS.items()]
    runs.append(
        {
            "data": str(path),
            "out": str(out / "whole"),
            **NET,
            **resume,
            "checkpoint": str(out / "whole.ckpt"),
            "checkpoint_every": 2,
            "history_path": str(out / "history.csv"),
            "model_path": str(out / "model.safetensors"),
        }
    )
    # Interrupted at the end of epoch 3 of 6 (after checkpoints at 2 and 3), then resumed.
    part = {**resume, "checkpoint": str(out / "part.ckpt"), "checkpoint_every": 2}
    runs.append({"data": str(path), "out": str(out / "part"), **NET, **part, "interrupt_after": 3})
    runs.append({"data": str(path), "out": str(out / "resumed"), **NET, **part, "resume": True})
    runs.append({"cli": [*CLI, str(path), "--out", str(out / "cli.safetensors")]})
    (out / "stdout.txt").write_text(launch(runs))
    return out


CLI = ["fit", "--target", "3", "--backend", "torch", "--distributed", "--hidden", "8"]
CLI += [
    "--activation",
    "tanh",
    "--epochs",
    "3",
    "--batch-size",
    "16",
    "--lr",
    "0.01",
    "--seed",
    "2",
]


def test_two_ranks_with_half_batches_equal_one_process_with_the_whole_batch(
    data: tuple[Path, np.ndarray, np.ndarray], launched: Path
) -> None:
    _, X, Y = data
    rng = np.random.default_rng(3)
    net = MLP([3, 8, 1], "tanh", rng=rng)
    history = train(net, X, Y, optimizer="adam", lr=0.01, epochs=2, batch_size=16, rng=rng)
    params, loss = result(launched / "adam")
    assert len(history.loss) == 2 and N_ROWS // 16 == 6  # 12 steps
    for p, q in zip(params, net.parameters(), strict=True):
        assert_allclose(p, q, rtol=1e-10, atol=0)
    assert_allclose(loss, history.loss, rtol=1e-10)
    # Training moved the parameters: equality is not of two untouched initialisations.
    start = MLP([3, 8, 1], "tanh", rng=np.random.default_rng(3)).parameters()
    assert not np.allclose(params[0], start[0], rtol=1e-3)


@pytest.mark.parametrize("name", ["chunked", "full"])
def test_two_ranks_equal_one_process_over_chunks_and_pieces(
    data: tuple[Path, np.ndarray, np.ndarray], launched: Path, name: str
) -> None:
    net, history = fit(data[0], **NET, **RUNS[name], log=lambda line: None)
    params, loss = result(launched / name)
    for p, q in zip(params, net.parameters(), strict=True):
        assert_allclose(p, q, rtol=1e-10, atol=1e-14)
    assert_allclose(loss, history.loss, rtol=1e-10)


def test_interrupted_and_resumed_under_two_ranks_ends_where_an_uninterrupted_run_does(
    launched: Path,
) -> None:
    from gradfit.io.checkpoint import load_checkpoint

    whole, whole_loss = result(launched / "whole")
    assert not list(launched.glob("part.rank*.npz"))  # the interrupted run returned nothing
    assert load_checkpoint(launched / "part.ckpt")["epoch"] == 6  # the resumed run's last
    for rank in range(2):
        with np.load(launched / f"resumed.rank{rank}.npz") as f:
            assert list(f["trained"]) == [4, 5, 6]  # it resumed; it did not start over
    resumed, resumed_loss = result(launched / "resumed")
    assert len(whole_loss) == len(resumed_loss) == 6
    for p, q in zip(resumed, whole, strict=True):
        assert_array_equal(p, q)
    assert_array_equal(resumed_loss, whole_loss)


def test_rank_zero_writes_the_history_and_the_model(launched: Path) -> None:
    from gradfit import load

    whole, whole_loss = result(launched / "whole")
    history = np.loadtxt(launched / "history.csv", delimiter=",", skiprows=1)
    assert_array_equal(history[:, 0], np.arange(1, 7))
    assert_array_equal(history[:, 1], whole_loss)
    for p, q in zip(load(launched / "model.safetensors").parameters(), whole, strict=True):
        assert_array_equal(p, q)


def test_the_command_line_under_torchrun_trains_as_the_python_api(
    data: tuple[Path, np.ndarray, np.ndarray], launched: Path
) -> None:
    from gradfit import load

    net, history = fit(data[0], **NET, epochs=3, batch_size=16, lr=0.01, seed=2)
    stdout = (launched / "stdout.txt").read_text()
    assert stdout.count("trained on 96 rows") == 1  # rank 0 alone reports
    assert f"final mse {history.loss[-1]:.6g}" in stdout
    cli = load(launched / "cli.safetensors")
    for p, q in zip(cli.parameters(), net.parameters(), strict=True):
        assert_allclose(p, q, rtol=1e-10, atol=1e-14)
