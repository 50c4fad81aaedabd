"""Where the compiled kernel stops beating NumPy: per-step time of both, by network and batch.

    python benchmarks/kernel_crossover.py [--epochs N]

Full-batch Adam on random data, float64, ReLU; each configuration trains with
``kernel="on"`` and ``kernel="off"`` alternately (3 rounds; the best of each is shown)
after an untimed warm-up. The last column is the work per step, rows × Σ n_in·n_out,
which :data:`gradfit.engine.kernel.MAX_PRODUCT_WORK` bounds for ``kernel="auto"``.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from gradfit.engine import MLP, Adam, train
from gradfit.engine.kernel import MAX_PRODUCT_WORK

CASES = [
    ((1, 64, 1), 100),
    ((1, 64, 1), 1000),
    ((1, 256, 1), 1000),
    ((2, 32, 32, 1), 200),
    ((4, 64, 64, 1), 100),
    ((4, 64, 64, 1), 400),
    ((8, 128, 128, 1), 200),
    ((8, 256, 256, 1), 256),
]


def seconds_per_step(sizes: tuple[int, ...], n: int, epochs: int, kernel: str) -> float:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0]))
    Y = np.sin(X.sum(axis=1, keepdims=True)).repeat(sizes[-1], axis=1)
    net = MLP(sizes, "relu", rng=np.random.default_rng(1))
    opt = Adam(net.parameters(), lr=1e-3)
    start = time.perf_counter()
    train(net, X, Y, optimizer=opt, epochs=epochs, kernel=kernel)
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    print("| network | rows | kernel (µs/step) | NumPy (µs/step) | kernel / NumPy | work |")
    print("|---|--:|--:|--:|--:|--:|")
    for sizes, n in CASES:
        work = n * sum(a * b for a, b in itertools.pairwise(sizes))
        epochs = max(3, min(args.epochs, int(args.epochs * 20_000 / work)))
        for kernel in ("on", "off"):
            seconds_per_step(sizes, n, 2, kernel)
        best = {"on": float("inf"), "off": float("inf")}
        for _ in range(3):
            for kernel in best:
                time.sleep(0.1)
                best[kernel] = min(best[kernel], seconds_per_step(sizes, n, epochs, kernel))
        ratio = best["on"] / best["off"]
        kind = "rank-one" if len(sizes) == 3 and sizes[-1] == 1 else "layered"
        mark = "≤" if work <= MAX_PRODUCT_WORK[kind] else ">"
        print(
            f"| {'-'.join(map(str, sizes))} | {n} | {best['on'] * 1e6:.1f} | "
            f"{best['off'] * 1e6:.1f} | {ratio:.2f} | {work:,} ({mark} {kind} limit) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
