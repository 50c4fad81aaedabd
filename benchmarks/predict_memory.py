"""``gradfit predict`` on a ``.npy`` file far larger than its memory: the peak resident set.

    python benchmarks/predict_memory.py [--gib 5.5] [--features 127] [--dir /tmp]

Writes a float32 ``.npy`` file of ``--gib`` GiB (``--features`` inputs and one target,
``y = sin(x·w) + noise``; see ``distributed.write_npy``) into a temporary folder under
``--dir`` (its free space is checked first), fits a small model on its first 20,000 rows
(``gradfit fit slice.npy --target FEATURES``), then runs ``gradfit predict MODEL big.npy
--out predictions.csv`` and ``gradfit evaluate MODEL big.npy`` as separate processes and
deletes the folder. Each process's peak resident memory is its ``ru_maxrss`` (read by a
small parent that runs only that command: everything, the Python interpreter, NumPy,
pandas and scikit-learn included). The file is read through the operating system's page
cache, which is shared and reclaimable and is not the process's memory. The target of
issue 14 is a peak below 500 MB.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from distributed import write_npy

GiB = 2**30
TARGET_MB = 500


def measure(command: list[str]) -> tuple[float, float]:
    """``(seconds, peak resident MB)`` of ``command``, run in a fresh parent of its own."""
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(time.perf_counter() - t, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], check=True, capture_output=True)
    seconds, kib = out.stdout.split()
    return float(seconds), int(kib) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=5.5, help="size of the .npy file")
    parser.add_argument("--features", type=int, default=127)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    row_bytes = 4 * (args.features + 1)
    n_rows = int(args.gib * GiB) // row_bytes
    need = n_rows * row_bytes + n_rows * 30  # the file, and the predictions as text
    free = shutil.disk_usage(args.dir).free
    if free < 1.2 * need:
        sys.exit(f"{args.dir} has {free / GiB:.1f} GiB free; this run needs {need / GiB:.1f} GiB")
    gradfit = [sys.executable, "-m", "gradfit"]
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="gradfit-predict-") as tmp:
        big, piece, model = Path(tmp, "big.npy"), Path(tmp, "slice.npy"), Path(tmp, "m.safetensors")
        t = time.perf_counter()
        write_npy(big, n_rows, args.features)
        print(
            f"wrote {big} ({big.stat().st_size / GiB:.2f} GiB) in {time.perf_counter() - t:.0f} s"
        )
        np.save(piece, np.load(big, mmap_mode="r")[:20_000])
        fit = [*gradfit, "fit", str(piece), "--target", str(args.features), "--out", str(model)]
        subprocess.run([*fit, "--hidden", "16", "--epochs", "20", "--seed", "0"], check=True)
        runs = {
            "predict": [*gradfit, "predict", str(model), str(big), "--out", f"{tmp}/p.csv"],
            "evaluate": [*gradfit, "evaluate", str(model), str(big)],
        }
        rows = []
        for name, command in runs.items():
            seconds, peak = measure(command)
            rows.append((name, n_rows, big.stat().st_size / GiB, seconds, peak))
        with open(f"{tmp}/p.csv") as f:
            predictions = sum(1 for _ in f) - 1
    print()
    print(f"{'command':<9} {'rows':>12} {'file GiB':>9} {'seconds':>8} {'peak RSS MB':>12}")
    for name, n, size, seconds, peak in rows:
        print(f"{name:<9} {n:>12,} {size:>9.2f} {seconds:>8.1f} {peak:>12.0f}")
    print(f"\npredictions written: {predictions:,} (rows: {n_rows:,})")
    worst = max(r[4] for r in rows)
    print(f"target: peak below {TARGET_MB} MB: {'met' if worst < TARGET_MB else 'NOT met'}")


if __name__ == "__main__":
    main()
