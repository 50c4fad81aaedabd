"""The results table, the targets of issue 7, and the CSV/JSON files."""

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


def targets(rows: list[Row], data_mb: dict[str, float]) -> list[Row]:
    """Issue 7's targets, each with the measured value and whether it holds."""
    checks = [
        ("sine", "gradfit-numpy", "numpy-loop", "≤", 1.25),
        ("sine", "torch-loop", "gradfit-numpy", "≥", 3.0),
        ("sine", "sklearn", "gradfit-numpy", "≥", 3.0),
        ("large", "gradfit-numpy", "numpy-loop", "≤", 1.0),
        ("large", "gradfit-numpy", "torch-loop", "≤", 1.1),
        ("large", "gradfit-torch", "torch-loop", "≤", 1.05),
    ]
    out: list[Row] = []
    for workload, a, b, op, limit in checks:
        ta, tb = _median(rows, workload, a), _median(rows, workload, b)
        if ta is None or tb is None:
            continue
        ratio = ta / tb
        ok = ratio <= limit if op == "≤" else ratio >= limit
        out.append(
            {"target": f"{workload}: time {a} / {b} {op} {limit}", "measured": ratio, "met": ok}
        )
    for r in rows:
        if r["workload"] == "large" and r["contender"] == "gradfit-numpy" and "peak_rss_mb" in r:
            # Measured above the process's memory once its libraries are imported:
            # `import gradfit` alone brings scikit-learn and pandas (the estimator).
            limit = data_mb["large"] + 150
            out.append(
                {
                    "target": f"large: gradfit-numpy peak RSS above imports ≤ data "
                    f"{data_mb['large']:.0f} MB + 150 MB",
                    "measured": r["above_imports_mb"],
                    "met": r["above_imports_mb"] <= limit,
                }
            )
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
