"""Starting ``torchrun`` from the tests: CPU processes, gloo on the loopback interface."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

WORKER = Path(__file__).with_name("_worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if sys.platform.startswith("linux"):
        env["GLOO_SOCKET_IFNAME"] = "lo"
    return env


def torchrun(nproc: int, *args: str) -> list[str]:
    """The command line of ``torchrun --nproc_per_node=nproc ARGS`` on the loopback."""
    return [
        sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
        "--master_addr=127.0.0.1", f"--master_port={free_port()}", *args,
    ]  # fmt: skip


def launch(runs: list[dict[str, Any]], nproc: int = 2) -> str:
    """Run ``runs`` (see ``_worker.py``) in ``nproc`` ranks; their standard output."""
    cmd = torchrun(nproc, str(WORKER), json.dumps(runs))
    done = subprocess.run(cmd, env=environment(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def result(out: Path, nproc: int = 2) -> dict[str, Any]:
    """The parameters and curves the ranks saved, checked equal across ranks."""
    saved = []
    for rank in range(nproc):
        with np.load(f"{out}.rank{rank}.npz") as f:
            saved.append({k: f[k] for k in f.files})
    for other in saved[1:]:
        assert other.keys() == saved[0].keys()
        for key, value in other.items():
            np.testing.assert_array_equal(value, saved[0][key])
    return saved[0]
