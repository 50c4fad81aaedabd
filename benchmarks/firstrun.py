"""What a first run costs: the compiled kernel's compilation and cache load, and a cold
``gradfit fit``, each timed in fresh processes.

A fresh ``NUMBA_CACHE_DIR`` stands for a machine that has never run the kernel: the
first process compiles it and writes the cache, the second loads it. ``gradfit fit`` on a
1,000-row CSV is timed whole (interpreter start, imports, reading, compiling or loading
the kernel, training to its early stop, writing the model, its history and figures), with
the cache cold, warm, and with the kernel off; and on a 1,000-row CSV of four columns,
whose five members step in the kernel's two lanes (another loop to compile), cold and
warm.
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
        rng = np.random.default_rng(0)
        x = np.linspace(-3, 3, 1000)
        one = {"x": x, "y": np.sin(x) + rng.normal(0, 0.1, x.size)}
        X = rng.normal(size=(1000, 4))
        four = {f"x{j}": X[:, j] for j in range(4)}
        four["y"] = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + rng.normal(0, 0.1, 1000)
        for name, columns, net in [
            ("1,000-row CSV", one, "five 1-100-1 ReLU members (a fold each), Adam, batch 200"),
            ("1,000-row, four-column CSV", four,
             "five 4-100-1 members: their steps reach the kernel's two lanes"),
        ]:  # fmt: skip
            csv = Path(tmp) / f"data{len(columns)}.csv"
            data = np.column_stack(list(columns.values()))
            lines = (",".join(f"{v:.6f}" for v in row) + "\n" for row in data)
            csv.write_text(",".join(columns) + "\n" + "".join(lines))
            fresh = os.environ | {"NUMBA_CACHE_DIR": str(Path(tmp) / f"numba-fit{len(columns)}")}
            runs = [("cold cache", fresh), ("warm cache", fresh)]
            if len(columns) == 2:
                runs.append(("kernel off", fresh | {"GRADFIT_KERNEL": "off"}))
            for label, run_env in runs:
                model = Path(tmp) / f"model{len(rows)}.safetensors"
                cmd = [sys.executable, "-m", "gradfit", "fit", str(csv), "--target", "y"]
                seconds, _ = _run([*cmd, "--out", str(model)], run_env)
                rows.append(
                    {"what": f"gradfit fit, {name}, {label}", "seconds": seconds,
                     "note": f"defaults: {net}"}
                )  # fmt: skip
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["**first run** (fresh processes)", "", "| what | seconds | |", "|---|--:|---|"]
    lines += [f"| {r['what']} | {r['seconds']:.2f} | {r['note']} |" for r in rows]
    return "\n".join(lines)
