"""Timing one contender on one workload, in this process or in a fresh one.

A fresh process (``python benchmarks/measure.py WORKLOAD CONTENDER``) makes the peak
resident memory its own: it prints one JSON line with the seconds, the peak resident
memory (``VmHWM``) and the resident memory once every library is imported, before
any data exists, and saves the final parameters to ``--params``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import workloads as wl
from contenders import load


@dataclass
class Timing:
    seconds: float
    params: list[wl.Array]
    compile_seconds: float | None = None


def warm_up(name: str, w: wl.Workload, X: wl.Array, Y: wl.Array, init: list[wl.Array]) -> None:
    """One untimed run on a slice of the data: first-call costs (thread pools, kernels,
    allocator growth) are paid here, not in the timing."""
    rows = min(X.shape[0], 16 * (w.batch_size or X.shape[0]))
    small = wl.replace(w, n_rows=rows, epochs=min(w.epochs, 20))
    load(name).prepare(small, X[:rows], Y[:rows], [p.copy() for p in init])()


def time_once(name: str, w: wl.Workload, X: wl.Array, Y: wl.Array, init: list[wl.Array]) -> Timing:
    """Build the contender (untimed), then time its training; returns the final parameters."""
    run = load(name).prepare(w, X, Y, [p.copy() for p in init])
    start = time.perf_counter()
    params = run()
    seconds = time.perf_counter() - start
    compile_seconds = getattr(run, "compile_seconds", None)
    return Timing(seconds, [np.array(p, copy=True) for p in params], compile_seconds)


def rss_mb() -> float:
    """This process's resident memory now, from ``/proc/self/statm``."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    """The most resident memory this process has had: imports, data and training.

    ``VmHWM`` rather than ``ru_maxrss``, which Linux carries over ``exec`` from the
    parent that forked this process (here, the benchmark with torch imported).
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload")
    parser.add_argument("contender")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--params", type=Path, required=True, help="where to save them (.npz)")
    args = parser.parse_args(argv)
    w = wl.WORKLOADS[args.workload]
    w = wl.quick(w) if args.quick else w
    load(args.contender)
    imports = rss_mb()
    X, Y = wl.data(w)
    init = wl.initial_parameters(w)
    warm_up(args.contender, w, X, Y, init)
    timing = time_once(args.contender, w, X, Y, init)
    peak = peak_rss_mb()
    np.savez(args.params, *timing.params)
    out: dict[str, Any] = {"seconds": timing.seconds, "peak_rss_mb": peak, "import_rss_mb": imports}
    if timing.compile_seconds is not None:
        out["compile_seconds"] = timing.compile_seconds
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
