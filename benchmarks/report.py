"""The results table, the targets of issues 7 and 15, and the CSV/JSON files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

Row = dict[str, Any]

COLUMNS = [
    ("contender", "contender"),
    ("median", "median"),
    ("range", "min–max"),
    ("ratio", "× gradfit NumPy"),
    ("final_loss", "final loss"),
    ("held_out_mse", "held-out MSE"),
    ("compile_s", "compile s"),
    ("gflops", "GFLOP/s"),
    ("peak_fraction", "% of peak"),
    ("peak_rss_mb", "peak RSS MB"),
    ("above_imports_mb", "MB above imports"),
]


def _fmt(row: Row, key: str) -> str:
    if row.get("skipped") and key not in ("contender",):
        return row["skipped"] if key == "median" else ""
    value = row.get(key)
    if key == "range":
        return f"{row['min']:.4g}–{row['max']:.4g}"
    if key == "contender":
        return str(row["label"])
    if value is None:
        return ""
    if key == "ratio":
        return f"{value:.2f}"
    if key == "peak_fraction":
        return f"{100 * value:.0f}%"
    if key in ("gflops", "peak_rss_mb", "above_imports_mb"):
        return f"{value:.0f}"
    if key == "compile_s":
        return f"{value:.2f}"
    return f"{value:.4g}"


def table(title: str, unit: str, rows: list[Row]) -> str:
    """A Markdown table of one workload's rows."""
    keys = [k for k, _ in COLUMNS if any(r.get(k) is not None for r in rows) or k == "range"]
    heads = [dict(COLUMNS)[k] + (f" ({unit})" if k == "median" else "") for k in keys]
    lines = [f"**{title}**", "", "| " + " | ".join(heads) + " |"]
    lines.append("|" + "|".join("---" if i == 0 else "--:" for i in range(len(keys))) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row, k) for k in keys) + " |")
    return "\n".join(lines)


def _median(rows: list[Row], workload: str, contender: str) -> float | None:
    for r in rows:
        if r["workload"] == workload and r["contender"] == contender and not r.get("skipped"):
            return float(r["median"])
    return None


def _row(rows: list[Row], workload: str, contender: str) -> Row | None:
    for r in rows:
        if r["workload"] == workload and r["contender"] == contender and not r.get("skipped"):
            return r
    return None


def _fastest(rows: list[Row], workload: str, contenders: tuple[str, ...]) -> Row | None:
    found = [r for c in contenders if (r := _row(rows, workload, c)) is not None]
    return min(found, key=lambda r: r["median"]) if found else None


def targets(rows: list[Row], data_mb: dict[str, float], peak: float) -> list[Row]:
    """Issues 7 and 15's targets, each with the measured value and whether it holds.

    "JAX" is the faster of its two contenders; "gradfit's fastest float32 path" the
    fastest of the default path, the NumPy engine and the torch backend.
    """
    out: list[Row] = []

    def check(target: str, measured: float | None, limit: float, op: str = "≤") -> None:
        if measured is not None:
            ok = measured <= limit if op == "≤" else measured >= limit
            out.append({"target": f"{target} {op} {limit:g}", "measured": measured, "met": ok})

    def ratio(workload: str, a: str, b: str) -> float | None:
        ta, tb = _median(rows, workload, a), _median(rows, workload, b)
        return None if ta is None or tb is None else ta / tb

    for workload, a, b, op, limit in [
        ("sine", "gradfit-numpy", "numpy-loop", "≤", 1.25),
        ("sine", "torch-loop", "gradfit-numpy", "≥", 3.0),
        ("sine", "sklearn", "gradfit-numpy", "≥", 3.0),
        ("large", "gradfit-numpy", "numpy-loop", "≤", 1.0),
        ("large", "gradfit-numpy", "torch-loop", "≤", 1.1),
        ("large", "gradfit-torch", "torch-loop", "≤", 1.05),
    ]:
        check(f"#7 {workload}: time {a} / {b}", ratio(workload, a, b), limit, op)

    scan, default, numpy_ = (
        _row(rows, "sine", c) for c in ("jax-scan", "gradfit", "gradfit-numpy")
    )
    if scan and default:
        check(
            "#15 sine: time gradfit (default) / jax-scan", default["median"] / scan["median"], 0.5
        )
    if default and numpy_:
        gap = abs(default["final_loss"] / numpy_["final_loss"] - 1)
        check("#15 sine: |final loss gradfit / gradfit-numpy - 1|", gap, 1e-9)
    jax = _fastest(rows, "large", ("jax", "jax-scan"))
    ours = _fastest(rows, "large", ("gradfit", "gradfit-numpy", "gradfit-torch"))
    if jax and ours:
        check(f"#15 large: time {ours['contender']} (fastest gradfit float32) / "
              f"{jax['contender']}", ours["median"] / jax["median"], 1.0)  # fmt: skip
    engine = _row(rows, "large", "gradfit-numpy")
    if engine and "gflops" in engine:
        check("#15 large: gradfit-numpy share of the float32 GEMM peak", engine["gflops"] / peak,
              0.6, "≥")  # fmt: skip
    bf16 = _row(rows, "large", "gradfit-torch-bf16")
    full = _row(rows, "large", "gradfit-torch")
    if bf16 and jax:
        check(f"#15 large: time gradfit-torch-bf16 / {jax['contender']} (float32)",
              bf16["median"] / jax["median"], 0.6)  # fmt: skip
    if bf16 and full and "held_out_mse" in bf16:
        gap = abs(bf16["held_out_mse"] / full["held_out_mse"] - 1)
        check("#15 large: |held-out MSE bf16-mixed / float32 - 1|", gap, 0.1)
    check("#15 large: time gradfit-torch / torch-loop", ratio("large", "gradfit-torch",
          "torch-loop"), 1.05)  # fmt: skip
    for r in rows:
        if r["workload"] == "large" and r["contender"] == "gradfit-numpy" and "peak_rss_mb" in r:
            # Measured above the process's memory once its libraries are imported.
            check(f"#7 large: gradfit-numpy MB above imports, data {data_mb['large']:.0f} MB + 150",
                  r["above_imports_mb"], data_mb["large"] + 150)  # fmt: skip
    return out


def targets_table(checks: list[Row]) -> str:
    lines = ["| target | measured | met |", "|---|--:|:-:|"]
    for c in checks:
        lines.append(f"| {c['target']} | {c['measured']:.3g} | {'yes' if c['met'] else 'NO'} |")
    return "\n".join(lines)


def write(out: Path, rows: list[Row], meta: dict[str, Any], checks: list[Row]) -> list[Path]:
    """``bench.json`` (everything) and ``bench.csv`` (one line per row) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    js, cs = out / "bench.json", out / "bench.csv"
    js.write_text(json.dumps({"meta": meta, "rows": rows, "targets": checks}, indent=2) + "\n")
    fields = ["workload", "contender", "unit", "median", "min", "max", "ratio", "final_loss"]
    fields += ["held_out_mse", "compile_s"]
    fields += [
        "gflops",
        "peak_fraction",
        "peak_rss_mb",
        "import_rss_mb",
        "above_imports_mb",
        "repeats",
        "skipped",
    ]
    with cs.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return [js, cs]
