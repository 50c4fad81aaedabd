"""gradfit's defaults on real data sets, against RidgeCV, scikit-learn's MLP and gradient boosting.

    python benchmarks/realdata.py [--quick] [--splits N] [--sets a,b,…] [--out DIR]

Every data set (``realsets.py``) is split at random 80/20, ``--splits`` times (seeds 0, 1,
…). gradfit is run as a user runs it, through its command line with no option but the
seed: ``gradfit fit train.csv --target y --out m.safetensors`` then ``gradfit evaluate
m.safetensors test.csv --json`` (in this process, by click's test runner, so the Python
start-up is not counted). The others are fitted on the same rows:

- ``RidgeCV`` on standardised inputs (alphas 10⁻³…10³, efficient leave-one-out);
- scikit-learn's ``MLPRegressor`` on standardised inputs, ``max_iter=2000``, else its
  defaults;
- ``HistGradientBoostingRegressor`` with its defaults.

The tables give the mean ± sd of the held-out R² and RMSE over the splits, and the mean
fit time (gradfit's: the whole ``gradfit fit`` command, reading the CSV and writing the
model and its history included). The targets of issue 12 are checked at the end, on the
suite's sets; the unseen sets are reported beside them. ``gradfit fit`` is also timed as
a separate process on a 10,000 × 50 table (Friedman's function #1 with 45 noise columns),
the largest size the 10-second target covers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from click.testing import CliRunner
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import realsets
from gradfit.cli.main import cli

MODELS = ("gradfit", "ridge", "sklearn-mlp", "hist-gb")
LABELS = {
    "gradfit": "gradfit fit (defaults)",
    "ridge": "RidgeCV (scaled)",
    "sklearn-mlp": "sklearn MLP (scaled)",
    "hist-gb": "HistGradientBoosting",
}
QUICK_SETS = ("mcycle", "engel", "diabetes")
SECONDS_LIMIT = 10.0


def baselines(seed: int) -> dict[str, Callable[[], Any]]:
    """The scikit-learn contenders, built fresh for one split."""
    return {
        "ridge": lambda: make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13))),
        "sklearn-mlp": lambda: make_pipeline(
            StandardScaler(), SklearnMLP(max_iter=2000, random_state=seed)
        ),
        "hist-gb": lambda: HistGradientBoostingRegressor(random_state=seed),
    }


def run_gradfit(folder: Path, train: pd.DataFrame, test: pd.DataFrame, seed: int) -> dict[str, Any]:
    """``gradfit fit`` then ``gradfit evaluate``, through the command line."""
    target = str(train.columns[-1])
    train_csv, test_csv, model = folder / "train.csv", folder / "test.csv", folder / "m.safetensors"
    for path in (model, folder / "m.history.csv"):
        path.unlink(missing_ok=True)
    train.to_csv(train_csv, index=False)
    test.to_csv(test_csv, index=False)
    runner = CliRunner()
    fit_args = ["fit", str(train_csv), "--target", target, "--out", str(model), "--no-plots"]
    started = time.perf_counter()
    done = runner.invoke(cli, [*fit_args, "--seed", str(seed)], catch_exceptions=False)
    seconds = time.perf_counter() - started
    if done.exit_code != 0:
        raise RuntimeError(f"gradfit fit failed ({done.exit_code}): {done.output}")
    scored = runner.invoke(cli, ["evaluate", str(model), str(test_csv), "--json"])
    if scored.exit_code != 0:
        raise RuntimeError(f"gradfit evaluate failed ({scored.exit_code}): {scored.output}")
    result = json.loads(scored.output)[target]
    return {"r2": result["r2"], "rmse": result["rmse"], "seconds": seconds, "log": done.output}


def run_baseline(
    make: Callable[[], Any], train: pd.DataFrame, test: pd.DataFrame
) -> dict[str, Any]:
    X, y = train.iloc[:, :-1].to_numpy(), train.iloc[:, -1].to_numpy()
    X_test, y_test = test.iloc[:, :-1].to_numpy(), test.iloc[:, -1].to_numpy()
    model = make()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's MLP may not converge in 2000 epochs
        model.fit(X, y)
    seconds = time.perf_counter() - started
    y_hat = model.predict(X_test)
    rmse = float(np.sqrt(mean_squared_error(y_test, y_hat)))
    return {"r2": float(r2_score(y_test, y_hat)), "rmse": rmse, "seconds": seconds}


def run_set(key: str, splits: int, folder: Path) -> dict[str, Any]:
    """Every model on every split of one data set."""
    frame = realsets.ALL[key].load()
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODELS}
    for seed in range(splits):
        train, test = train_test_split(frame, test_size=0.2, random_state=seed)
        runs["gradfit"].append(run_gradfit(folder, train, test, seed))
        for name, make in baselines(seed).items():
            runs[name].append(run_baseline(make, train, test))
    return {
        "key": key,
        "unseen": key not in {s.key for s in realsets.SUITE},
        "rows": len(frame),
        "columns": frame.shape[1] - 1,
        "runs": runs,
        "gradfit_log": runs["gradfit"][0].pop("log").strip().splitlines()[:2],
    }


def time_command(folder: Path, rows: int = 10_000, columns: int = 50) -> float:
    """Wall time of ``gradfit fit`` as its own process on a ``rows × columns`` table."""
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=rows, n_features=columns, noise=1.0, random_state=0)
    path = folder / "wide.csv"
    pd.DataFrame(X, columns=[f"x{j}" for j in range(columns)]).assign(y=y).to_csv(path, index=False)
    command = [sys.executable, "-m", "gradfit", "fit", str(path), "--target", "y"]
    command += ["--out", str(folder / "wide.safetensors"), "--no-plots"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(results: list[dict[str, Any]]) -> None:
    """Add each model's mean and sd of R², RMSE and seconds to each set's result."""
    for r in results:
        r["mean"] = {
            m: {k: mean_sd([run[k] for run in runs]) for k in ("r2", "rmse", "seconds")}
            for m, runs in r["runs"].items()
        }


def tables(results: list[dict[str, Any]]) -> str:
    """Markdown: held-out R², RMSE (mean ± sd) and fit seconds per data set and model."""
    head = "| data set | rows × inputs | " + " | ".join(LABELS[m] for m in MODELS) + " |"
    rule = "|---|---|" + "---|" * len(MODELS)
    out = []
    for title, key, fmt in (
        ("Held-out R² (mean ± sd over the splits)", "r2", "{:.3f} ± {:.3f}"),
        ("Held-out RMSE, in the target's units (mean ± sd)", "rmse", "{:.4g} ± {:.2g}"),
        ("Fit time, seconds (mean)", "seconds", "{:.2f}"),
    ):
        out += ["", f"**{title}**", "", head, rule]
        for r in results:
            name = r["key"] + (" (unseen)" if r["unseen"] else "")
            cells = [fmt.format(*r["mean"][m][key]) for m in MODELS]
            out.append(f"| {name} | {r['rows']} × {r['columns']} | " + " | ".join(cells) + " |")
        if key == "r2":
            for group, unseen in (("suite", False), ("unseen", True)):
                chosen = [r for r in results if r["unseen"] == unseen]
                if chosen:
                    means = [
                        statistics.fmean(r["mean"][m]["r2"][0] for r in chosen) for m in MODELS
                    ]
                    cells = [f"**{v:.3f}**" for v in means]
                    out.append(f"| mean, {group} | | " + " | ".join(cells) + " |")
    return "\n".join(out)


def targets(results: list[dict[str, Any]], wide_seconds: float | None) -> tuple[str, bool]:
    """The issue's targets on the suite's sets, as a markdown table, and whether all hold."""
    suite = [r for r in results if not r["unseen"]]
    lines = ["| target | measured | met |", "|---|---|---|"]
    ok_all = True

    def row(text: str, measured: str, ok: bool) -> None:
        nonlocal ok_all
        ok_all &= ok
        lines.append(f"| {text} | {measured} | {'yes' if ok else 'NO'} |")

    for r in suite:
        ours = r["mean"]["gradfit"]["r2"][0]
        for other in ("ridge", "sklearn-mlp"):
            theirs = r["mean"][other]["r2"][0]
            row(f"{r['key']}: R² ≥ {LABELS[other]}", f"{ours:.3f} vs {theirs:.3f}", ours >= theirs)
    if suite:
        ours = statistics.fmean(r["mean"]["gradfit"]["r2"][0] for r in suite)
        theirs = statistics.fmean(r["mean"]["hist-gb"]["r2"][0] for r in suite)
        row("suite mean R² ≥ HistGradientBoosting's", f"{ours:.3f} vs {theirs:.3f}", ours >= theirs)
    slowest = max(
        ((r["key"], run["seconds"]) for r in results for run in r["runs"]["gradfit"]),
        key=lambda pair: pair[1],
    )
    row("every `gradfit fit` < 10 s", f"slowest {slowest[1]:.2f} s ({slowest[0]})", slowest[1] < 10)
    if wide_seconds is not None:
        row(
            "`gradfit fit` on 10,000 × 50, a new process, < 10 s",
            f"{wide_seconds:.2f} s",
            wide_seconds < SECONDS_LIMIT,
        )
    return "\n".join(lines), ok_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="three small sets, one split")
    parser.add_argument("--splits", type=int, default=5, help="random 80/20 splits per set")
    parser.add_argument("--sets", help="comma-separated keys; default: suite and unseen sets")
    parser.add_argument("--out", type=Path, help="folder for realdata.json")
    args = parser.parse_args(argv)
    keys = list(realsets.ALL) if args.sets is None else args.sets.split(",")
    splits = args.splits
    if args.quick:
        keys, splits = list(QUICK_SETS), 1
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for key in keys:
            results.append(run_set(key, splits, folder))
            print(f"{key}: done", file=sys.stderr, flush=True)
        wide = None if args.quick else time_command(folder)
    summarise(results)
    print(f"{splits} random 80/20 split(s) per data set\n" + tables(results) + "\n")
    table, ok = targets(results, wide)
    print(table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        meta = {"splits": splits, "wide_seconds": wide, "targets_met": ok}
        (args.out / "realdata.json").write_text(json.dumps({"meta": meta, "sets": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
