"""Where the compiled kernel stops beating NumPy: per-step time of both, by network and batch.

    python benchmarks/kernel_crossover.py [--epochs N]

Full-batch Adam on random data, float64, ReLU, on the mean squared error (and, for the
networks with two outputs marked ``gaussian_nll``, a Gaussian head's NLL); each
configuration trains with
``kernel="on"`` and ``kernel="off"`` alternately (3 rounds; the best of each is shown)
after an untimed warm-up. The work per step is rows × Σ n_in·n_out; the last column is
what ``kernel="auto"`` takes (:func:`gradfit.engine.kernel.faster`: its work limits, and
few inputs for one hidden layer).
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from gradfit.engine import MLP, Adam, get_loss, train
from gradfit.engine.kernel import faster

CASES = [
    ((1, 64, 1), 100, "mse"),
    ((1, 64, 1), 1000, "mse"),
    ((1, 256, 1), 1000, "mse"),
    ((2, 32, 32, 1), 200, "mse"),
    ((4, 64, 64, 1), 100, "mse"),
    ((4, 64, 64, 1), 400, "mse"),
    ((8, 128, 128, 1), 200, "mse"),
    ((8, 256, 256, 1), 256, "mse"),
    ((1, 64, 2), 100, "gaussian_nll"),
    ((13, 50, 2), 100, "gaussian_nll"),
    ((16, 128, 2), 200, "gaussian_nll"),
    ((16, 128, 2), 400, "gaussian_nll"),
    ((16, 256, 2), 400, "gaussian_nll"),
    ((1, 1024, 1), 4000, "mse"),
    ((4, 512, 1), 2000, "mse"),
    ((12, 200, 1), 1000, "mse"),
    ((16, 256, 1), 2000, "mse"),
    ((24, 100, 1), 200, "mse"),
    ((50, 100, 1), 200, "mse"),
    ((16, 512, 2), 1000, "gaussian_nll"),
]


def seconds_per_step(sizes: tuple[int, ...], n: int, loss: str, epochs: int, kernel: str) -> float:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0]))
    targets = sizes[-1] // 2 if loss == "gaussian_nll" else sizes[-1]
    Y = np.sin(X.sum(axis=1, keepdims=True)).repeat(targets, axis=1)
    net = MLP(sizes, "relu", rng=np.random.default_rng(1))
    opt = Adam(net.parameters(), lr=1e-3)
    start = time.perf_counter()
    train(net, X, Y, loss=get_loss(loss), optimizer=opt, epochs=epochs, kernel=kernel)
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    print(
        "| network | rows | loss | kernel (µs/step) | NumPy (µs/step) | kernel / NumPy | work "
        "| auto takes |"
    )
    print("|---|--:|---|--:|--:|--:|--:|---|")
    for sizes, n, loss in CASES:
        work = n * sum(a * b for a, b in itertools.pairwise(sizes))
        epochs = max(3, min(args.epochs, int(args.epochs * 20_000 / work)))
        for kernel in ("on", "off"):
            seconds_per_step(sizes, n, loss, 2, kernel)
        best = {"on": float("inf"), "off": float("inf")}
        for _ in range(3):
            for kernel in best:
                time.sleep(0.1)
                best[kernel] = min(best[kernel], seconds_per_step(sizes, n, loss, epochs, kernel))
        ratio = best["on"] / best["off"]
        net = MLP(sizes, "relu", rng=np.random.default_rng(1))
        chosen = "kernel" if faster(net, n, get_loss(loss)) else "NumPy"
        print(
            f"| {'-'.join(map(str, sizes))} | {n} | {loss} | {best['on'] * 1e6:.1f} | "
            f"{best['off'] * 1e6:.1f} | {ratio:.2f} | {work:,} | {chosen} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
