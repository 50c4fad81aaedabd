"""Killing one rank of ``gradfit fit --distributed`` mid-run, then resuming in one process.

The survivor ends within seconds with one ``gradfit: error:`` line and exit 1; the
checkpoint rank 0 wrote last loads; resumed in one process it continues exactly as an
uninterrupted run (the trainer's state does not depend on the number of processes). Started
by ``--nproc-per-node``, the run then names the killed process and exits 1, with no
traceback; torchrun prints its own ``ChildFailedError`` report instead.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _launch import environment, torchrun
from click.testing import CliRunner
from numpy.testing import assert_allclose

pytest.importorskip("torch")

from gradfit import load
from gradfit.cli import cli
from gradfit.io.checkpoint import load_checkpoint

pytestmark = [
    pytest.mark.torch,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]
BOUND_S = 30
"""The most seconds from the kill to the end of every process (measured: 2 to 3)."""

OPTIONS = [
    "--target", "4", "--backend", "torch", "--distributed", "--hidden", "16",
    "--batch-size", "64", "--lr", "0.003", "--seed", "7", "--early-stopping",
    "--n-iter-no-change", "1000", "--no-plots",
]  # fmt: skip


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def rank_of(pid: int) -> int | None:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    ranks = [v.split(b"=", 1)[1] for v in environ if v.startswith(b"RANK=")]
    return int(ranks[0]) if ranks else None


def launched(launcher: str, nproc: int, *args: str) -> list[str]:
    """``python -m gradfit ARGS`` in ``nproc`` ranks started by ``launcher``."""
    if launcher == "torchrun":
        return torchrun(nproc, "-m", "gradfit", *args)
    return [sys.executable, "-m", "gradfit", *args, "--nproc-per-node", str(nproc)]


@pytest.mark.parametrize("launcher", ["gradfit", "torchrun"])
def test_a_killed_rank_ends_the_run_in_seconds_and_the_checkpoint_resumes_in_one_process(
    tmp_path: Path, launcher: str
) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6000, 4))
    data = tmp_path / "data.npy"
    np.save(data, np.hstack([X, np.sin(X.sum(axis=1, keepdims=True))]))
    model, checkpoint = tmp_path / "m.safetensors", tmp_path / "m.checkpoint.safetensors"
    args = ["fit", str(data), *OPTIONS, "--epochs", "1000"]
    run = subprocess.Popen(
        launched(launcher, 2, *args, "--checkpoint-every", "1", "--out", str(model)),
        env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not checkpoint.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpoint.exists(), "no checkpoint was written"
        workers = {rank_of(pid): pid for pid in children(run.pid)}
        killed = time.monotonic()
        subprocess.run(["kill", "-9", str(workers[1])], check=True)
        _, stderr = run.communicate(timeout=BOUND_S + 30)
        ended = time.monotonic() - killed
    finally:
        if run.poll() is None:
            run.kill()
    assert ended < BOUND_S, f"the run took {ended:.1f} s to end"
    errors = [line for line in stderr.splitlines() if line.startswith("gradfit:")]
    assert errors[0].startswith("gradfit: error: process 0: "), stderr[-3000:]
    assert "--resume" in errors[0]
    if launcher == "torchrun":
        assert len(errors) == 1
        assert run.returncode != 0
        assert re.search(r"rank\s*:\s*0 .*\n\s*exitcode\s*:\s*1 ", stderr), stderr[-3000:]
    else:
        assert stderr.splitlines() == [
            errors[0],
            "gradfit: error: process 1 was ended by SIGKILL (killed, or out of memory); "
            "rerun with --resume to continue from the last checkpoint",
        ]
        assert run.returncode == 1
    assert not model.exists()

    # The last checkpoint is whole, and resuming it in one process is the run not killed.
    epoch = load_checkpoint(checkpoint)["epoch"]
    assert epoch >= 1
    total = str(epoch + 2)
    resumed = subprocess.run(
        launched(launcher, 1, *args[:-2], "--epochs", total, "--resume", "--out", str(model)),
        env=environment(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"trained {total} epochs on 6000 rows" in resumed.stdout
    whole = tmp_path / "whole.safetensors"
    done = CliRunner().invoke(cli, ["fit", str(data), *OPTIONS, "--epochs", total,
                                    "--out", str(whole)])  # fmt: skip
    assert done.exit_code == 0, done.output
    ours, theirs = load(model), load(whole)
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert_allclose(ours.validation_loss_curve_, theirs.validation_loss_curve_, rtol=1e-10)
    for p, q in zip(ours.net_.parameters(), theirs.net_.parameters(), strict=True):
        assert_allclose(p, q, rtol=1e-10, atol=1e-14)


def test_a_collective_failed_by_a_lost_peer_is_one_line_and_other_errors_pass() -> None:
    from gradfit.errors import PeerLostError
    from gradfit.torch_backend.distributed import peers_watched

    gloo = (
        "[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection "
        "closed by peer [127.0.0.1]:46477. This is typically caused by a remote worker crashing."
    )
    lost = r"stopped answering \(Connection closed by peer "
    with pytest.raises(PeerLostError, match=lost), peers_watched():
        raise RuntimeError(gloo)
    timeout = "[…/unbound_buffer.cc:78] Timed out waiting 60000ms for recv operation to complete"
    silent = r"\(Timed out waiting 60000ms for recv"
    with pytest.raises(PeerLostError, match=silent), peers_watched():
        raise RuntimeError(timeout)
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes"), peers_watched():
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")
