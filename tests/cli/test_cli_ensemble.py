"""``gradfit fit --ensemble K`` and ``gradfit predict --interval``: columns, files, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import Invoke, assert_one_line_error, edit_model_metadata
from numpy.testing import assert_allclose

import gradfit
from gradfit.cli.exits import Exit

FAST = ["--hidden", "8", "--epochs", "15"]


@pytest.fixture
def ensemble_model(invoke: Invoke, sine_csv: Path) -> Path:
    path = sine_csv.parent / "ens.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", *FAST, "--no-plots", "--ensemble", "3",
                    "--loss", "gaussian_nll", "--out", path)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "Gaussian negative log-likelihood" in result.stdout
    return path


def test_predict_writes_each_target_with_its_interval(
    invoke: Invoke, sine_csv: Path, ensemble_model: Path
) -> None:
    out = sine_csv.parent / "pred.csv"
    result = invoke("predict", ensemble_model, sine_csv, "--interval", "0.8", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "with 80% intervals" in result.stdout
    table = pd.read_csv(out)
    assert list(table.columns) == ["y", "y_lower", "y_upper"]
    model = gradfit.load(ensemble_model)
    assert model.n_members == 3 and model.loss == "gaussian_nll"
    X = pd.read_csv(sine_csv)[["x"]]
    lower, upper = model.predict_interval(X, coverage=0.8)
    assert_allclose(table["y"], model.predict(X), rtol=1e-15)
    assert_allclose(table["y_lower"], lower, rtol=1e-15)
    assert_allclose(table["y_upper"], upper, rtol=1e-15)
    assert (table["y_lower"] < table["y"]).all() and (table["y"] < table["y_upper"]).all()


def test_an_interval_within_1e_16_of_everything_is_finite(
    invoke: Invoke, sine_csv: Path, ensemble_model: Path
) -> None:
    """--interval 0.9999999999999999 is a valid coverage (8.29 σ each side); it wrote
    -inf and inf with exit 0, the z score's argument rounding to 1."""
    out = sine_csv.parent / "pred.csv"
    result = invoke("predict", ensemble_model, sine_csv, "--interval", 1 - 2**-53, "--out", out)
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(out)
    mean, std = gradfit.load(ensemble_model).predict(pd.read_csv(sine_csv)[["x"]], return_std=True)
    assert_allclose(table["y_upper"], mean + 8.292361075813597 * std, rtol=1e-12)
    assert_allclose(table["y_lower"], mean - 8.292361075813597 * std, rtol=1e-12)


def test_two_targets_get_three_columns_each(invoke: Invoke, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, 50)
    pd.DataFrame({"x": x, "a": np.sin(x), "b": x**2 + rng.normal(0, 0.1, 50)}).to_csv(
        tmp_path / "d.csv", index=False
    )
    model = tmp_path / "m.safetensors"
    result = invoke("fit", tmp_path / "d.csv", "--target", "a", "--target", "b", *FAST,
                    "--no-plots", "--ensemble", "2", "--out", model)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    result = invoke("predict", model, tmp_path / "d.csv", "--interval", "0.9",
                    "--out", tmp_path / "p.csv")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    columns = ["a", "a_lower", "a_upper", "b", "b_lower", "b_upper"]
    assert list(pd.read_csv(tmp_path / "p.csv").columns) == columns


def test_the_fit_figure_draws_the_band(invoke: Invoke, sine_csv: Path) -> None:
    pytest.importorskip("matplotlib")
    out = sine_csv.parent / "band.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", *FAST, "--ensemble", "2", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert (sine_csv.parent / "band.fit.png").stat().st_size > 10_000


def test_interval_needs_a_model_with_spread(invoke: Invoke, sine_csv: Path) -> None:
    one = sine_csv.parent / "one.safetensors"
    assert (
        invoke("fit", sine_csv, "--target", "y", *FAST, "--no-plots", "--out", one).exit_code == 0
    )
    out = sine_csv.parent / "p.csv"
    result = invoke("predict", one, sine_csv, "--interval", "0.9", "--out", out)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "--interval needs a model with a spread", "--ensemble K")
    assert not out.exists()


@pytest.mark.parametrize("bad", ["0", "1", "1.5", "-0.1"])
def test_interval_outside_zero_one_is_a_usage_error(
    invoke: Invoke, sine_csv: Path, ensemble_model: Path, bad: str
) -> None:
    out = sine_csv.parent / "p.csv"
    result = invoke("predict", ensemble_model, sine_csv, "--interval", bad, "--out", out)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "--interval", "is not in the range 0<x<1")
    assert not out.exists()


def test_an_ensemble_of_zero_is_a_usage_error(invoke: Invoke, sine_csv: Path) -> None:
    out = sine_csv.parent / "z.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", "--ensemble", "0", "--out", out)
    assert result.exit_code == Exit.USAGE
    assert "--ensemble" in result.stderr and "0" in result.stderr
    assert not out.exists()


def test_evaluate_adds_the_uncertainty_metrics(
    invoke: Invoke, sine_csv: Path, ensemble_model: Path
) -> None:
    import json

    from gradfit.uncertainty import metrics

    result = invoke("evaluate", ensemble_model, sine_csv, "--json")
    assert result.exit_code == 0, result.stderr
    scores = json.loads(result.stdout)["y"]
    model, table = gradfit.load(ensemble_model), pd.read_csv(sine_csv)
    mean, std = model.predict(table[["x"]], return_std=True)
    expected = metrics(table["y"].to_numpy(), mean, std)
    assert scores["nll"] == pytest.approx(expected["nll"], rel=1e-12)
    assert scores["coverage_90"] == expected["coverage"]
    assert scores["width_90"] == pytest.approx(expected["width"], rel=1e-12)
    assert scores["miscalibration"] == pytest.approx(expected["miscalibration"], rel=1e-12)
    text = invoke("evaluate", ensemble_model, sine_csv).stdout
    assert "90% coverage" in text and f"{expected['coverage']:.3f}" in text


def test_evaluate_of_a_model_without_spread_has_no_uncertainty_table(
    invoke: Invoke, sine_csv: Path
) -> None:
    one = sine_csv.parent / "one.safetensors"
    assert (
        invoke("fit", sine_csv, "--target", "y", *FAST, "--no-plots", "--out", one).exit_code == 0
    )
    result = invoke("evaluate", one, sine_csv, "--json")
    assert result.exit_code == 0, result.stderr
    assert (
        "nll" not in result.stdout
        and "90% coverage" not in invoke("evaluate", one, sine_csv).stdout
    )


@pytest.mark.parametrize(
    ("where", "value", "fragment"),
    [
        # Parameters that describe another network than the file holds: get_params() lied.
        ("dtype", "float32", "dtype='float32'; the network has [8], 'relu', 'float64'"),
        ("activation", "tanh", "activation='tanh', dtype='float64'; the network has [8], 'relu'"),
        ("hidden_layer_sizes", [9], "hidden_layer_sizes=[9]"),
        # Parameters fit would refuse: the message named n_members=3 as if it agreed.
        ("n_members", "3", "n_members (networks in the ensemble, 1 for one network, or 'auto')"),
        ("precision", "fp8", "precision must be one of 'full', 'bf16-mixed'; got 'fp8'"),
    ],
)
def test_a_model_file_whose_parameters_disagree_with_its_network_is_refused(
    invoke: Invoke, sine_csv: Path, ensemble_model: Path, where: str, value: object, fragment: str
) -> None:
    edit_model_metadata(
        ensemble_model, lambda doc: doc["estimator"]["params"].update({where: value})
    )
    out = sine_csv.parent / "pred.csv"
    result = invoke("predict", ensemble_model, sine_csv, "--out", out)
    assert result.exit_code == Exit.BAD_MODEL, result.output
    assert_one_line_error(result.stderr, "not a valid gradfit model file", fragment)
    assert not out.exists()


def test_a_target_named_as_an_interval_column_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    """Targets y and y_lower with --interval wrote y_lower twice, with exit 0."""
    data = tmp_path / "two.csv"
    x = np.linspace(-1, 1, 30).tolist()
    data.write_text("x,y,y_lower\n" + "".join(f"{a!r},{2 * a!r},{a - 1!r}\n" for a in x))
    model = tmp_path / "two.safetensors"
    fit = ("fit", data, "--target", "y", "--target", "y_lower", *FAST, "--ensemble", 2)
    assert invoke(*fit, "--no-plots", "--out", model).exit_code == 0
    out = tmp_path / "p.csv"
    result = invoke("predict", model, data, "--interval", 0.9, "--out", out)
    assert result.exit_code == Exit.USAGE, result.output
    assert_one_line_error(result.stderr, "would have two columns named 'y_lower'")
    assert not out.exists()
    assert invoke("predict", model, data, "--out", out).exit_code == 0  # y, y_lower: fine
