"""``benchmarks/classification.py`` runs end to end and its table holds every contender."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_classification_benchmark_prints_its_table(tmp_path: Path) -> None:
    out = tmp_path / "iris.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "classification.py"), "--splits", "2",
         "--datasets", "iris", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("| data set | gradfit accuracy | gradfit log loss | sklearn MLP")
    assert lines[2].startswith("| iris (2 splits) | ")
    results = json.loads(out.read_text())
    for contender in ("gradfit", "sklearn MLP", "logistic", "HGB", "gradfit K=5"):
        accuracy = results["iris"][contender]["accuracy"]
        assert len(accuracy) == 2 and all(0.8 <= a <= 1 for a in accuracy)
    assert any(line.endswith("gradfit >= logistic on iris") for line in lines)
