"""gradfit against hand-written NumPy and PyTorch loops, torch.compile, JAX and scikit-learn.

    python benchmarks/run.py [--quick] [--repeats N] [--workloads linear,sine,large] [--out DIR]

Each workload's contenders start from the same parameters and run interleaved (the
order rotates every repeat); the table gives the median, the min–max, the median as a
multiple of gradfit NumPy's, and the final training loss, scored the same way for all.
The large workload runs every contender in a fresh process, for its own peak memory
(except under ``--quick``, a smoke test, where the process start-ups would dominate).
Contenders that compile (JAX, torch.compile) do so before the timing and report the
seconds apart; the compiled kernel's first-run cost is measured in fresh processes at
the end (``firstrun.py``; ``--no-first-run`` skips it).

OpenBLAS worker threads spin for a while after a NumPy matrix product (and OpenMP's,
torch's, after a torch call), stealing a core from whatever runs next. Rather than
change how either library runs, this script pauses ``--pause`` seconds before every
timed run — longer than both spins — so each contender starts on idle cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import firstrun
import report
import workloads as wl
from contenders import CONTENDERS, load, skipped
from measure import time_once, warm_up

HERE = Path(__file__).resolve().parent


def matmul_peak(n: int = 2048, repeats: int = 7) -> dict[str, float]:
    """The best GFLOP/s of an ``n × n`` matrix product: float32 in NumPy and torch, and
    bfloat16 in torch (what ``bf16-mixed`` computes with)."""
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    flops = 2.0 * n**3
    peaks = {}
    runners: dict[str, Any] = {"numpy float32": lambda: A @ B}
    if load("torch-loop").missing() is None:
        import torch

        At, Bt = torch.from_numpy(A), torch.from_numpy(B)
        Ah, Bh = At.bfloat16(), Bt.bfloat16()
        runners["torch float32"] = lambda: At @ Bt
        runners["torch bfloat16"] = lambda: Ah @ Bh
    for name, product in runners.items():
        time.sleep(0.3)
        product()
        best = min(_seconds(product) for _ in range(repeats))
        peaks[name] = flops / best / 1e9
    return peaks


def float32_peak(peaks: dict[str, float]) -> float:
    return max(v for k, v in peaks.items() if k.endswith("float32"))


def _seconds(f: Any) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def environment() -> dict[str, Any]:
    """What the numbers depend on: CPUs, versions, BLAS kernels, load, OpenBLAS settings."""
    from threadpoolctl import threadpool_info

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for name in ("torch", "scikit-learn", "numba", "jax", "optax"):
        module = "sklearn" if name == "scikit-learn" else name
        try:
            versions[name] = __import__(module).__version__
        except ImportError:
            versions[name] = "not installed"
    blas = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')} "
        f"{i.get('num_threads')} threads ({Path(i['filepath']).name})"
        for i in threadpool_info()
    ]
    return {
        "cpus": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "versions": versions,
        "threadpools": blas,
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
        "load_average": os.getloadavg(),
    }


def summarise(w: wl.Workload, name: str, runs: list[dict[str, Any]], loss: float) -> report.Row:
    seconds = [r["seconds"] for r in runs]
    median = statistics.median(seconds)
    row: report.Row = {
        "workload": w.key,
        "contender": name,
        "label": load(name).LABEL,
        "unit": w.unit,
        "median": w.per_unit(median),
        "min": w.per_unit(min(seconds)),
        "max": w.per_unit(max(seconds)),
        "repeats": len(seconds),
        "final_loss": loss,
    }
    if w.isolated:
        row["gflops"] = w.matmul_flops() / median / 1e9
    compiles = [r["compile_seconds"] for r in runs if r.get("compile_seconds") is not None]
    if compiles:
        row["compile_s"] = statistics.median(compiles)
    if "peak_rss_mb" in runs[0]:
        row["peak_rss_mb"] = statistics.median(r["peak_rss_mb"] for r in runs)
        row["import_rss_mb"] = statistics.median(r["import_rss_mb"] for r in runs)
        row["above_imports_mb"] = row["peak_rss_mb"] - row["import_rss_mb"]
    return row


def _progress(w: wl.Workload, name: str, r: int, seconds: float) -> None:
    print(f"  {w.key} #{r + 1} {name}: {seconds:.3f} s", file=sys.stderr, flush=True)


def in_process(w: wl.Workload, names: list[str], repeats: int, pause: float) -> list[report.Row]:
    X, Y = wl.data(w)
    init = wl.initial_parameters(w)
    for name in names:
        warm_up(name, w, X, Y, init)
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    final: dict[str, list[wl.Array]] = {}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            time.sleep(pause)
            t = time_once(name, w, X, Y, init)
            runs[name].append({"seconds": t.seconds, "compile_seconds": t.compile_seconds})
            _progress(w, name, r, t.seconds)
            final[name] = t.params
    rows = [summarise(w, n, runs[n], wl.final_loss(w, final[n], X, Y)) for n in names]
    held = wl.held_out(w)
    if held is not None:
        for row in rows:
            row["held_out_mse"] = wl.final_loss(w, final[row["contender"]], *held, mean=True)
    return rows


def isolated(w: wl.Workload, names: list[str], repeats: int, pause: float) -> list[report.Row]:
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                time.sleep(pause)
                params = Path(tmp) / f"{name}.npz"
                cmd = [sys.executable, str(HERE / "measure.py"), w.key, name]
                cmd += ["--params", str(params)]
                done = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise RuntimeError(f"{name} on {w.key} failed:\n{done.stderr}")
                runs[name].append(json.loads(done.stdout))
                _progress(w, name, r, runs[name][-1]["seconds"])
        X, Y = wl.data(w)
        held = wl.held_out(w)
        rows = []
        for name in names:
            with np.load(Path(tmp) / f"{name}.npz") as f:
                params = [f[f"arr_{i}"] for i in range(len(f.files))]
            rows.append(summarise(w, name, runs[name], wl.final_loss(w, params, X, Y)))
            if held is not None:
                rows[-1]["held_out_mse"] = wl.final_loss(w, params, *held, mean=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--repeats", type=int, help="timed runs per contender (default 7; 5 for the large workload)"
    )
    parser.add_argument("--workloads", default="linear,sine,large")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--pause", type=float, help="seconds idle before each timed run")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument(
        "--large-rows",
        type=int,
        help="rows of the large workload, run in this process (no memory figures): a shorter "
        "run for a busy machine, whose ratios are indicative only",
    )
    parser.add_argument(
        "--no-first-run", action="store_true", help="skip timing first runs in fresh processes"
    )
    args = parser.parse_args(argv)
    pause = args.pause if args.pause is not None else (0.05 if args.quick else 0.3)
    meta = environment()
    meta["command"] = " ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])])
    meta["matmul_peak_gflops"] = matmul_peak(n=512 if args.quick else 2048)
    peak = float32_peak(meta["matmul_peak_gflops"])
    print(f"# gradfit benchmarks — {meta['cpus']} CPUs, {meta['cpu']}")
    print(f"versions: {meta['versions']}")
    for pool in meta["threadpools"]:
        print(f"threadpool: {pool}")
    if "OPENBLAS_CORETYPE" in os.environ:
        print("note: OPENBLAS_CORETYPE is set and may slow NumPy; see the README")
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in meta["matmul_peak_gflops"].items())
    print(f"matrix-product peaks (GFLOP/s): {peaks}")
    print(
        "no GPU is used: every contender runs on the CPU (CUDA paths exist for the torch "
        "backend and JAX but are not measured here)\n"
    )

    names = args.contenders.split(",")
    rows: list[report.Row] = []
    data_mb: dict[str, float] = {}
    for key in args.workloads.split(","):
        w = wl.quick(wl.WORKLOADS[key]) if args.quick else wl.WORKLOADS[key]
        if args.large_rows and w.key == "large":
            title = w.title.replace("1,000,000", f"{args.large_rows:,}")
            w = wl.replace(w, n_rows=args.large_rows, title=title)
        repeats = args.repeats or (1 if args.quick else (5 if w.isolated else 7))
        why = {n: skipped(n, w) for n in names}
        ready = [n for n in names if why[n] is None]
        left_out = [
            {"workload": w.key, "contender": n, "label": load(n).LABEL, "skipped": why[n]}
            for n in names
            if n not in ready
        ]
        if w.isolated and not args.quick and not args.large_rows:
            got = isolated(w, ready, repeats, pause)
        else:
            got = in_process(w, ready, repeats, pause)
        if w.isolated:
            # Measured again beside the workload: another process on a core lowers it.
            again = matmul_peak(n=512 if args.quick else 2048)
            meta["matmul_peak_gflops"] = {
                k: max(v, meta["matmul_peak_gflops"][k]) for k, v in again.items()
            }
            peak = float32_peak(meta["matmul_peak_gflops"])
        reference = next((r["median"] for r in got if r["contender"] == "gradfit-numpy"), None)
        for r in got:
            r["ratio"] = r["median"] / reference if reference else None
            if "gflops" in r:
                r["peak_fraction"] = r["gflops"] / peak
        data_mb[w.key] = w.n_rows * (w.sizes[0] + w.sizes[-1]) * np.dtype(w.dtype).itemsize / 2**20
        rows += got + left_out
        print(report.table(w.title, w.unit, got + left_out) + "\n", flush=True)

    checks = report.targets(rows, data_mb, peak)
    if checks:
        print(report.targets_table(checks) + "\n")
    if not args.quick and not args.no_first_run:
        meta["first_run"] = firstrun.measure()
        print(firstrun.table(meta["first_run"]) + "\n")
    meta["load_average_after"] = os.getloadavg()
    for path in report.write(args.out, rows, meta, checks):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
