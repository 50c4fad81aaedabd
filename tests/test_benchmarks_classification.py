"""``benchmarks/classification.py`` runs end to end and its table holds every contender;
``classification_tried.py`` measures its variants as it does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[str]]:
    """``classification.py`` on two splits of iris: its JSON and its printed lines."""
    out = tmp_path_factory.mktemp("classification") / "iris.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "classification.py"), "--splits", "2",
         "--datasets", "iris", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), done.stdout.splitlines()


def test_the_classification_benchmark_prints_its_table(iris_run: tuple[dict, list[str]]) -> None:
    results, lines = iris_run
    assert lines[0].startswith("| data set | gradfit accuracy | gradfit log loss | sklearn MLP")
    assert lines[2].startswith("| iris (2 splits) | ")
    for contender in ("gradfit", "sklearn MLP", "logistic", "HGB", "gradfit K=5"):
        accuracy = results["iris"][contender]["accuracy"]
        assert len(accuracy) == 2 and all(0.8 <= a <= 1 for a in accuracy)
    assert any(line.endswith("gradfit >= logistic on iris") for line in lines)


def test_the_variants_script_scores_the_defaults_as_the_benchmark(
    iris_run: tuple[dict, list[str]],
) -> None:
    """Its ``defaults`` row and rivals are ``classification.py``'s on the same splits, or
    its comparisons would mean nothing; a variant that changes the fit changes the score."""
    results, _ = iris_run
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "classification_tried.py"), "--splits", "2",
         "--datasets", "iris", "--variants", "defaults,epochs=1"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")[1]
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| variant")
    }

    def mean(contender: str) -> str:
        return f"{sum(results['iris'][contender]['accuracy']) / 2:.4f}"

    assert rows["defaults"] == mean("gradfit")
    assert rows["sklearn MLP"] == mean("sklearn MLP") and rows["logistic"] == mean("logistic")
    assert float(rows["epochs=1"]) < float(rows["defaults"])  # one epoch: barely trained
