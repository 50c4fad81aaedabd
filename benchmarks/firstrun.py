"""What a first run costs: the compiled kernel's compilation and cache load, and a cold
``gradfit fit``, each timed in fresh processes.

A fresh ``NUMBA_CACHE_DIR`` stands for a machine that has never run the kernel: the
first process compiles it and writes the cache, the second loads it. ``gradfit fit`` on a
1,000-row CSV is timed whole (interpreter start, imports, reading, compiling or loading
the kernel, 500 epochs, writing the model, its history and figures), with the cache cold,
warm, and with the kernel off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

PROBE = """
import json, time
start = time.perf_counter()
import numpy as np
from gradfit.engine import MLP, Adam, train
imported = time.perf_counter()
X = np.linspace(-3, 3, 100).reshape(-1, 1)
net = MLP([1, 64, 1], "relu", rng=np.random.default_rng(0))
train(net, X, np.sin(X), optimizer=Adam(net.parameters(), lr=0.01), epochs=1, kernel="on")
first = time.perf_counter()
train(net, X, np.sin(X), optimizer=Adam(net.parameters(), lr=0.01), epochs=1, kernel="on")
print(json.dumps({"import": imported - start, "first_step": first - imported,
                  "second_step": time.perf_counter() - first}))
"""


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return seconds, done.stdout


def measure() -> list[dict[str, Any]]:
    """Rows ``{"what", "seconds", "note"}`` for the first-run table."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"NUMBA_CACHE_DIR": str(Path(tmp) / "numba")}
        for label in ("cold cache (compiles)", "warm cache (loads)"):
            seconds, out = _run([sys.executable, "-c", PROBE], env)
            probe = json.loads(out)
            rows.append(
                {
                    "what": f"kernel, {label}: first step",
                    "seconds": probe["first_step"],
                    "note": f"import gradfit.engine {probe['import']:.2f} s; "
                    f"the next call {probe['second_step'] * 1e3:.2f} ms; process {seconds:.1f} s",
                }
            )
        csv = Path(tmp) / "sine.csv"
        x = np.linspace(-3, 3, 1000)
        y = np.sin(x) + np.random.default_rng(0).normal(0, 0.1, x.size)
        csv.write_text("x,y\n" + "".join(f"{a:.6f},{b:.6f}\n" for a, b in zip(x, y, strict=True)))
        fresh = os.environ | {"NUMBA_CACHE_DIR": str(Path(tmp) / "numba-fit")}
        runs = [
            ("cold cache", fresh),
            ("warm cache", fresh),
            ("kernel off", fresh | {"GRADFIT_KERNEL": "off"}),
        ]
        for i, (label, run_env) in enumerate(runs):
            model = Path(tmp) / f"model{i}.safetensors"
            cmd = [sys.executable, "-m", "gradfit", "fit", str(csv), "--target", "y"]
            seconds, _ = _run([*cmd, "--out", str(model)], run_env)
            rows.append(
                {
                    "what": f"gradfit fit, 1,000-row CSV, {label}",
                    "seconds": seconds,
                    "note": "defaults: five 1-100-1 ReLU members (a fold each), Adam, batch 200",
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["**first run** (fresh processes)", "", "| what | seconds | |", "|---|--:|---|"]
    lines += [f"| {r['what']} | {r['seconds']:.2f} | {r['note']} |" for r in rows]
    return "\n".join(lines)
