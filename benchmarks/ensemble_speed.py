"""What an ensemble of K networks costs against one network, batched and in a loop.

    python benchmarks/ensemble_speed.py [--members 5] [--repeats 3] [--loss mse]
                                        [--workloads sine,boston-size,large] [--quick]

For each workload and backend, fits of ``MLPRegressor(loss="gaussian_nll")`` (or
``--loss mse``: mean-only members; the compiled kernel steps either kind all in one call) run
interleaved (the order rotates every repeat) for a fixed number of epochs, without a
held-out split (so without early stopping and the spread's calibration, whose cost is
not the members'): one network; ``n_members=K`` (all members in one batched computation);
the same on one core; and K separate one-network fits one after another (the loop a user
would write). The table gives each median time and the ratios to one network, and, for the
NumPy engine, the peak memory that ``tracemalloc`` sees during the fit beside the bytes of
the parameters and of the data.

The core budget is the machine's, the same for all: the ensemble runs as the library
runs it (a large step's members in two lanes of equal work on the cores in the compiled
kernel, its rows in two parts on two threads in NumPy, torch's own threads), and one
network takes the faster of
its BLAS on one thread (the estimator's choice for steps this small) and on every core
(``one net, BLAS threads``: which was faster). "K batched, one core" holds the ensemble
to one thread (NumPy's parts and the kernel's members one after another, whole, BLAS on
one thread): the arithmetic alone. torch runs one network and the ensemble on its
own threads (``torch.get_num_threads()``, every core).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gradfit.engine import batch_parts
from gradfit.estimator import MLPRegressor, _fitting

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
        n_iter_no_change=10**6, early_stopping=False,
    )  # fmt: skip


@contextlib.contextmanager
def blas_on_every_core() -> Iterator[None]:
    """One network's fit with its BLAS on every core, however small its steps."""
    small = _fitting.SMALL_STEP
    _fitting.SMALL_STEP = 0
    try:
        yield
    finally:
        _fitting.SMALL_STEP = small


@contextlib.contextmanager
def one_core() -> Iterator[None]:
    """The NumPy engine's ensemble held to one thread: its parts and the kernel's members
    one after another (BLAS is on one thread already at these sizes)."""
    from threadpoolctl import threadpool_limits

    pool, kernel = batch_parts.pool, None
    batch_parts.pool = lambda: None  # type: ignore[assignment]
    with contextlib.suppress(ImportError):
        from gradfit.engine.kernel import stepper as kernel

        work, kernel.PARALLEL_WORK = kernel.PARALLEL_WORK, 10**18
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        batch_parts.pool = pool  # type: ignore[assignment]
        if kernel is not None:
            kernel.PARALLEL_WORK = work


Run = tuple[Callable[[], contextlib.AbstractContextManager[None]], Callable[[], None]]
"""A fit and the context it runs in (entered before its clock starts)."""


def runs(w: dict[str, Any], backend: str, K: int, loss: str) -> dict[str, Run]:
    X, y = data(w)
    same = contextlib.nullcontext

    def one() -> None:
        model(w, backend, 1, loss=loss).fit(X, y)

    def batched() -> None:
        model(w, backend, K, loss=loss).fit(X, y)

    def loop() -> None:
        for k in range(K):
            model(w, backend, 1, seed=k, loss=loss).fit(X, y)

    fns: dict[str, Run] = {
        "one": (same, one),
        "one_blas_threads": (blas_on_every_core, one),
        "batched": (same, batched),
        "batched_one_core": (one_core, batched),
        "loop": (same, loop),
    }
    if backend != "numpy":  # torch runs on its own threads, whatever BLAS's or ours
        del fns["one_blas_threads"], fns["batched_one_core"]
    return fns


def timed(run: Run) -> float:
    context, fn = run
    with context():
        gc.collect()
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start


def peak_bytes(run: Run) -> int:
    fn = run[1]
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
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--loss", default="gaussian_nll", choices=["gaussian_nll", "mse"])
    parser.add_argument("--quick", action="store_true", help="few epochs, one repeat")
    args = parser.parse_args(argv)
    K, repeats = args.members, 1 if args.quick else args.repeats
    print(f"K = {K} members, loss {args.loss}; median of {repeats} interleaved repeats; "
          f"seconds; {batch_parts.cores()} cores, load average {os.getloadavg()[0]:.2f} "
          "at the start")  # fmt: skip
    print("| workload | backend | one net | one net, BLAS threads | K batched | batched/one "
          "| K batched, one core / one | K in a loop / one |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    memory = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in args.workloads.split(","):
            w = WORKLOADS[name] | ({"epochs": QUICK[name]} if args.quick else {})
            for backend in args.backends.split(","):
                fns = runs(w, backend, K, args.loss)
                for k in ("one", "batched"):  # warm up (imports, allocations, kernel cache)
                    timed(fns[k])
                times: dict[str, list[float]] = {k: [] for k in fns}
                order = list(fns)
                for r in range(repeats):
                    for k in order[r % len(order) :] + order[: r % len(order)]:
                        times[k].append(timed(fns[k]))
                t = {k: statistics.median(v) for k, v in times.items()}
                threads = "all" if t.get("one_blas_threads", np.inf) < t["one"] else "1"
                threads = threads if backend == "numpy" else "torch's"
                one = min(t["one"], t.get("one_blas_threads", np.inf))
                in_turn = f"{t['batched_one_core'] / one:.2f}" if backend == "numpy" else "—"
                print(
                    f"| {name} | {backend} | {one:.3f} | {threads} | {t['batched']:.3f} | "
                    f"{t['batched'] / one:.2f} | {in_turn} | "
                    f"{t['loop'] / one:.2f} |"
                )
                if backend == "numpy":
                    X, y = data(w)
                    net = model(w, "numpy", 1, loss=args.loss).set_params(max_iter=1).fit(X, y)
                    n_params = net.net_.n_parameters
                    memory.append((name, peak_bytes(fns["one"]), peak_bytes(fns["batched"]),
                                   8 * n_params, X.nbytes))  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    print()
    print("NumPy engine, peak traced memory of a fit (MB):")
    print("| workload | one net | K batched | ratio | parameters of one (MB) | data (MB) |")
    print("|---|---|---|---|---|---|")
    for name, one_bytes, batched, params, data_bytes in memory:
        mb = f"{one_bytes / 1e6:.2f} | {batched / 1e6:.2f} | {batched / one_bytes:.2f}"
        print(f"| {name} | {mb} | {params / 1e6:.3f} | {data_bytes / 1e6:.2f} |")


if __name__ == "__main__":
    main()
