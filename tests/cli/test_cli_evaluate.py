"""What ``gradfit fit`` reports after training, and ``gradfit evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import Invoke
from numpy.testing import assert_allclose
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

import gradfit
from gradfit.estimator import MLPRegressor


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """200 rows of ``y = a - 2b + noise``: enough for the default early stopping."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (2, 200))
    frame = pd.DataFrame({"a": a, "b": b, "y": 10 * (a - 2 * b) + rng.normal(0, 3, 200)})
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


def scores(y: np.ndarray, y_hat: np.ndarray) -> list[float]:
    return [
        r2_score(y, y_hat),
        np.sqrt(mean_squared_error(y, y_hat)),
        mean_absolute_error(y, y_hat),
    ]


def test_fit_reports_held_out_and_training_scores_in_the_targets_units(
    invoke: Invoke, table: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.safetensors"
    result = invoke("fit", table, "--target", "y", "--out", out, "--no-plots")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    frame = pd.read_csv(table)
    X, y = frame[["a", "b"]], frame["y"].to_numpy()
    twin = MLPRegressor(random_state=0).fit(X, y)  # --seed defaults to 0: the same fit
    held = np.unique(twin.validation_rows_)  # five members, each holding out 40 rows
    assert twin.validation_rows_.shape == (5, 40) and held.size == 200
    assert lines[0] == "5 MLPs 2 → 100 → 1 (relu, 2,005 parameters, mean squared error): a, b -> y"
    assert lines[1] == (
        f"trained {twin.n_iter_} epochs on 200 rows: 5 networks, each holding out 40 of its "
        "own for validation (200 rows in all, scored out-of-bag)"
    )
    assert lines[2] == (
        f"early stop at epoch {twin.n_iter_}: the validation loss had not fallen by --tol "
        f"0.0001 for 50 epochs; restored epoch {twin.best_epoch_}, the one with the lowest "
        "validation loss"
    )
    assert lines[3].split() == ["target", "data", "rows", "R²", "RMSE", "MAE"]
    # Training: the ensemble on every row; validation: each row out-of-bag.
    kinds, predictions = ("training", "validation"), (twin.predict(X), twin.oob_prediction_)
    for line, kind, predicted in zip(lines[4:6], kinds, predictions, strict=True):
        name, said, n, *numbers = line.split()
        assert (name, said, int(n)) == ("y", kind, 200)
        assert_allclose([float(v) for v in numbers], scores(y, predicted), rtol=5e-4)
    assert "gradfit: warning" not in result.stderr  # the validation loss had stopped falling
    history = pd.read_csv(tmp_path / "m.history.csv")
    assert list(history.columns) == ["epoch", "loss", "val_loss", "restored"]
    assert history.loc[history["restored"] == 1, "epoch"].tolist() == [twin.best_epoch_]
    assert history["val_loss"].idxmin() + 1 == twin.best_epoch_


def test_fit_without_a_split_says_why(invoke: Invoke, table: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.safetensors"
    options = ("--no-early-stopping", "--epochs", 5, "--no-plots")
    result = invoke("fit", table, "--target", "y", *options, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[2] == "reached --epochs 5 (--no-early-stopping)"
    assert "raise --epochs or --lr" in result.stderr  # the training loss was still falling


def test_loss_figure_marks_the_restored_epoch(invoke: Invoke, table: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from gradfit import plotting

    model = MLPRegressor(random_state=0).fit(*_xy(table))
    fig = plotting.plot_loss(model.history_, restored_epoch=model.best_epoch_)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["training", "validation", f"restored epoch {model.best_epoch_}"]
    vertical = next(line for line in ax.lines if line.get_label() == labels[2])
    assert list(vertical.get_xdata()) == [model.best_epoch_] * 2


def _xy(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.read_csv(path)
    return frame[["a", "b"]], frame["y"].to_numpy()


def test_evaluate_scores_every_target_as_scikit_learn_does(
    invoke: Invoke, table: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.safetensors"
    assert invoke("fit", table, "--target", "y", "--out", out, "--no-plots").exit_code == 0
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-1.5, 1.5, (2, 50))  # partly outside the training range
    test = tmp_path / "test.csv"
    pd.DataFrame({"y": 10 * (a - 2 * b), "b": b, "a": a}).to_csv(test, index=False)
    model = gradfit.load(out)
    expected = scores(10 * (a - 2 * b), model.predict(pd.DataFrame({"a": a, "b": b})))

    shown = invoke("evaluate", out, test, "--json")
    assert shown.exit_code == 0, shown.stderr
    got = json.loads(shown.stdout)
    assert got["y"]["rows"] == 50
    assert_allclose([got["y"][k] for k in ("r2", "rmse", "mae")], expected, rtol=1e-12)

    text = invoke("evaluate", out, test)
    assert text.exit_code == 0, text.stderr
    header, row, *spread = text.stdout.splitlines()  # the ensemble's NLL and coverage after
    assert spread[0].split()[:2] == ["target", "NLL"]
    assert header.split() == ["target", "data", "rows", "R²", "RMSE", "MAE"]
    assert row.split()[:3] == ["y", str(test), "50"]
    assert_allclose([float(v) for v in row.split()[3:]], expected, rtol=5e-4)


def test_evaluate_names_a_missing_target_column(
    invoke: Invoke, table: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.safetensors"
    assert invoke("fit", table, "--target", "y", "--out", out, "--no-plots").exit_code == 0
    unlabelled = tmp_path / "x.csv"
    pd.read_csv(table)[["a", "b"]].to_csv(unlabelled, index=False)
    result = invoke("evaluate", out, unlabelled)
    assert result.exit_code == 3
    assert result.stderr == (
        f"gradfit: error: {unlabelled}: target column(s) 'y' not found; the file has 'a', 'b'\n"
    )


def test_evaluate_refuses_an_input_column_as_the_target(
    invoke: Invoke, table: Path, tmp_path: Path
) -> None:
    # --target a scored the predictions of y against the input a: R² -11 under 'a', exit 0.
    out = tmp_path / "m.safetensors"
    result = invoke("fit", table, "--target", "y", "--out", out, "--no-plots", "--epochs", 2)
    assert result.exit_code == 0, result.stderr
    result = invoke("evaluate", out, table, "--target", "a")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"gradfit: error: --target 'a' is an input column of {out}, not the values it "
        f"predicts; {out} predicts 'y': give the column that holds those (or leave --target "
        "out)\n"
    )


def test_evaluate_asks_for_the_target_when_the_model_does_not_name_it(
    invoke: Invoke, table: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.safetensors"
    gradfit.save(MLPRegressor(max_iter=3, random_state=0).fit(*_xy(table)), out)
    result = invoke("evaluate", out, table)
    assert result.exit_code == 2
    assert result.stderr == (
        f"gradfit: error: {out} does not name its target(s); say which column(s) of {table} "
        "hold the true values with --target\n"
    )
    named = invoke("evaluate", out, table, "--target", "y", "--json")
    assert named.exit_code == 0, named.stderr
    assert set(json.loads(named.stdout)) == {"y"}


def test_json_holds_null_where_a_score_is_no_finite_number(invoke: Invoke, tmp_path: Path) -> None:
    """Targets of ±1e200 printed 'gradfit: warning: overflow encountered in square' twice
    and JSON with "rmse": Infinity and "nll": Infinity, which JSON parsers refuse."""
    x = np.linspace(-2, 2, 40)
    train = tmp_path / "train.csv"
    train.write_text("x,y\n" + "".join(f"{a},{np.sin(a)}\n" for a in x.tolist()))
    model = tmp_path / "m.safetensors"
    fitted = invoke("fit", train, "--target", "y", "--out", model, "--epochs", 2,
                    "--ensemble", 2, "--no-plots")  # fmt: skip
    assert fitted.exit_code == 0, fitted.stderr
    far = tmp_path / "far.csv"
    far.write_text("x,y\n1,1e200\n2,-1e200\n0.5,3\n")
    result = invoke("evaluate", model, far, "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    scores = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(c))["y"]
    assert scores["rows"] == 3 and scores["r2"] is None
    assert scores["rmse"] is None and scores["nll"] is None
    assert scores["mae"] == pytest.approx(2e200 / 3, rel=1e-9)
