"""What an ensemble of K networks costs against one network, batched and in a loop.

    python benchmarks/ensemble_speed.py [--members 5] [--repeats 3] [--loss mse] [--quick]

For each workload and backend, three fits of ``MLPRegressor(loss="gaussian_nll")`` (or
``--loss mse``: mean-only members, which the compiled kernel steps all in one call) run
interleaved (the order rotates every repeat) for a fixed number of epochs: one network;
``n_members=K`` (all members in one batched computation); and K separate one-network
fits one after another (the loop a user would write). The table gives each median time
and the ratios to one network, and, for the NumPy engine, the peak memory that
``tracemalloc`` sees during the fit beside the bytes of the parameters and of the data.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from gradfit.estimator import MLPRegressor

WORKLOADS: dict[str, dict[str, Any]] = {
    # The walk-through's sine: 20 points, 1-64-1, full batch.
    "sine": {"n": 20, "d": 1, "hidden": (64,), "batch": None, "epochs": 300},
    # A UCI-sized table: the paper's Boston setting.
    "boston-size": {"n": 455, "d": 13, "hidden": (50,), "batch": 100, "epochs": 40},
    # More rows and units.
    "large": {"n": 20_000, "d": 16, "hidden": (128,), "batch": 200, "epochs": 3},
}
QUICK = {"sine": 30, "boston-size": 5, "large": 1}


def data(w: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(w["n"], w["d"]))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1:].sum(axis=1) + rng.normal(0, 0.1, w["n"])
    return X, y


def model(
    w: dict[str, Any], backend: str, members: int, seed: int = 0, loss: str = "gaussian_nll"
) -> MLPRegressor:
    return MLPRegressor(
        hidden_layer_sizes=w["hidden"], batch_size=w["batch"], max_iter=w["epochs"],
        loss=loss, n_members=members, backend=backend, random_state=seed,
        n_iter_no_change=10**6,
    )  # fmt: skip


def runs(w: dict[str, Any], backend: str, K: int, loss: str) -> dict[str, Callable[[], None]]:
    X, y = data(w)

    def one() -> None:
        model(w, backend, 1, loss=loss).fit(X, y)

    def batched() -> None:
        model(w, backend, K, loss=loss).fit(X, y)

    def loop() -> None:
        for k in range(K):
            model(w, backend, 1, seed=k, loss=loss).fit(X, y)

    return {"one": one, "batched": batched, "loop": loop}


def timed(fn: Callable[[], None]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_bytes(fn: Callable[[], None]) -> int:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", default="numpy,torch")
    parser.add_argument("--loss", default="gaussian_nll", choices=["gaussian_nll", "mse"])
    parser.add_argument("--quick", action="store_true", help="few epochs, one repeat")
    args = parser.parse_args(argv)
    K, repeats = args.members, 1 if args.quick else args.repeats
    print(f"K = {K} members, loss {args.loss}; median of {repeats} interleaved repeats; seconds")
    print("| workload | backend | one net | K batched | K in a loop | batched/one | loop/one |")
    print("|---|---|---|---|---|---|---|")
    memory = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, w in WORKLOADS.items():
            w = w | ({"epochs": QUICK[name]} if args.quick else {})
            for backend in args.backends.split(","):
                fns = runs(w, backend, K, args.loss)
                fns["one"]()  # warm up (imports, first allocations)
                times: dict[str, list[float]] = {k: [] for k in fns}
                order = list(fns)
                for r in range(repeats):
                    for k in order[r % 3 :] + order[: r % 3]:
                        times[k].append(timed(fns[k]))
                t = {k: statistics.median(v) for k, v in times.items()}
                ratios = f"{t['batched'] / t['one']:.2f} | {t['loop'] / t['one']:.2f}"
                print(
                    f"| {name} | {backend} | {t['one']:.3f} | {t['batched']:.3f} | "
                    f"{t['loop']:.3f} | {ratios} |"
                )
                if backend == "numpy":
                    X, y = data(w)
                    one = model(w, "numpy", 1, loss=args.loss).set_params(max_iter=1).fit(X, y)
                    n_params = one.net_.n_parameters
                    memory.append((name, peak_bytes(fns["one"]), peak_bytes(fns["batched"]),
                                   8 * n_params, X.nbytes))  # fmt: skip
    print()
    print("NumPy engine, peak traced memory of a fit (MB):")
    print("| workload | one net | K batched | ratio | parameters of one (MB) | data (MB) |")
    print("|---|---|---|---|---|---|")
    for name, one, batched, params, data_bytes in memory:
        print(f"| {name} | {one / 1e6:.2f} | {batched / 1e6:.2f} | {batched / one:.2f} | "
              f"{params / 1e6:.3f} | {data_bytes / 1e6:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
