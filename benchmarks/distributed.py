"""One epoch of data-parallel training over a .npy file far larger than each process's memory.

    python benchmarks/distributed.py [--gib 5.5] [--ranks 2] [--batch-size 32768] [--dir TMP]
                                     [--out DIR]

Writes a float32 ``.npy`` file of ``--gib`` GiB (``--features`` inputs and one target,
``y = sin(x·w) + noise``, see :func:`write_npy`) into a temporary folder (``--dir``;
by default in ``/dev/shm`` when it has room, see :func:`scratch`),
trains a ``features-16-1`` ReLU MLP with Adam for one epoch under
``torchrun --nproc_per_node=RANKS`` on the loopback interface (gloo) — the estimator's
``fit`` with ``distributed=True``: one pass for the standardisation statistics, each rank
reading its share of the chunks, then the epoch, each rank reading only its slice of
each batch (no validation split: its row indices would take 8 bytes a row) — and
deletes the file.
Each rank reports its peak resident memory (``ru_maxrss``: everything, the Python
interpreter and PyTorch included) and its resident memory before training started.
The file is read through the operating system's page cache, which is shared and
reclaimable and is not any process's memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

GiB = 2**30


def write_npy(path: Path, n_rows: int, n_features: int, seed: int = 0) -> None:
    """A C-ordered float32 ``(n_rows, n_features + 1)`` ``.npy``, written block by block.

    Drawing gigabytes of random numbers would take longer than the training it feeds,
    so the file cycles through 8 blocks of 2**18 random rows (``y = sin(x·w) + noise``).
    """
    rng = np.random.default_rng(seed)
    w = (rng.normal(size=n_features) / np.sqrt(n_features)).astype(np.float32)
    blocks = []
    for _ in range(8):
        X = rng.standard_normal((1 << 18, n_features), dtype=np.float32)
        y = np.sin(X @ w) + np.float32(0.1) * rng.standard_normal(1 << 18, dtype=np.float32)
        blocks.append(np.hstack([X, y[:, None]]).astype(np.float32))
    header = {"descr": "<f4", "fortran_order": False, "shape": (n_rows, n_features + 1)}
    with open(path, "wb") as f:
        np.lib.format.write_array_header_2_0(f, header)
        for i, start in enumerate(range(0, n_rows, 1 << 18)):
            f.write(blocks[i % 8][: n_rows - start].tobytes())


def worker(args: argparse.Namespace) -> None:
    """One rank: train one epoch, then rank 0 gathers every rank's numbers into ``--report``."""
    import torch
    import torch.distributed as dist

    from gradfit import MLPRegressor
    from gradfit.io.arrays import NpyRows

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    model = MLPRegressor(
        hidden_layer_sizes=(16,),
        dtype="float32",
        learning_rate_init=1e-3,
        max_iter=1,
        batch_size=args.batch_size,
        random_state=0,
        early_stopping=False,
        backend="torch",
        distributed=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch does not converge
        model.fit(NpyRows(args.data, target=["-1"]))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    mine = torch.tensor([before, peak, seconds], dtype=torch.float64)
    everyone = [torch.zeros_like(mine) for _ in range(world)]
    dist.all_gather(everyone, mine)
    if rank == 0:
        ranks = [{"rss_before_kib": b, "peak_rss_kib": p, "seconds": s} for b, p, s in everyone]
        result = {
            "loss": model.loss_curve_[0],
            "ranks": [{k: float(v) for k, v in r.items()} for r in ranks],
        }
        Path(args.report).write_text(json.dumps(result))
    dist.destroy_process_group()


def scratch(size: int) -> Path | None:
    """``/dev/shm`` when it has room to spare, else ``None`` (the system's temporary folder).

    A file there is written at memory speed rather than the disk's; either way the
    training processes read it through the kernel, not through their own memory.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > size + GiB:
        return shm
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=5.5, help="size of the data file")
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32768, help="global batch")
    parser.add_argument("--dir", type=Path, help="where the temporary folder goes")
    parser.add_argument("--out", type=Path, help="folder for distributed.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    row_bytes = 4 * (args.features + 1)
    n_rows = int(args.gib * GiB) // row_bytes
    folder = Path(
        tempfile.mkdtemp(prefix="gradfit-bench-", dir=args.dir or scratch(n_rows * row_bytes))
    )
    try:
        data, report = folder / "data.npy", folder / "report.json"
        t = time.perf_counter()
        write_npy(data, n_rows, args.features)
        written = time.perf_counter() - t
        size = data.stat().st_size
        env = dict(os.environ, OMP_NUM_THREADS="1")
        if sys.platform.startswith("linux"):
            env["GLOO_SOCKET_IFNAME"] = "lo"
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            f"--nproc_per_node={args.ranks}",
            "--master_addr=127.0.0.1",
            f"--master_port={free_port()}",
            __file__,
            "--worker",
            f"--data={data}",
            f"--report={report}",
            f"--batch-size={args.batch_size}",
        ]
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        launched = time.perf_counter() - t
        result = json.loads(report.read_text())
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    peaks = [r["peak_rss_kib"] * 1024 for r in result["ranks"]]
    befores = [r["rss_before_kib"] * 1024 for r in result["ranks"]]
    epoch = max(r["seconds"] for r in result["ranks"])
    row = {
        "file_bytes": size,
        "rows": n_rows,
        "columns": args.features + 1,
        "ranks": args.ranks,
        "global_batch": args.batch_size,
        "epoch_seconds": epoch,
        "rows_per_second": n_rows / epoch,
        "peak_rss_bytes": peaks,
        "rss_before_training_bytes": befores,
        "file_over_peak": size / max(peaks),
        "loss": result["loss"],
        "write_seconds": written,
        "launch_seconds": launched,
    }
    MB = 1e6
    print(
        f"| file | rows | ranks | batch | epoch | rows/s | peak RSS per rank | file / peak |\n"
        f"|---|---|---|---|---|---|---|---|\n"
        f"| {size / GiB:.2f} GiB .npy (float32, {args.features + 1} columns) | {n_rows:,} "
        f"| {args.ranks} | {args.batch_size} | {epoch:.1f} s | {n_rows / epoch:,.0f} "
        f"| {' / '.join(f'{p / MB:.0f} MB' for p in peaks)} "
        f"(before training: {' / '.join(f'{b / MB:.0f}' for b in befores)} MB) "
        f"| {size / max(peaks):.1f}× |"
    )
    print(f"epoch loss {result['loss']:.4g}; file written to {folder} in {written:.1f} s; ", end="")
    print(f"the launch took {launched:.1f} s in all")
    if size < 10 * max(peaks):
        print(f"the file is less than 10x the peak: raise --gib to {10 * max(peaks) / GiB:.1f}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "distributed.json").write_text(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
