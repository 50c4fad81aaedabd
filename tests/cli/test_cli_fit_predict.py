"""``gradfit fit`` and ``gradfit predict`` in-process: outputs, divergence, model files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import ENV, Invoke, assert_one_line_error, gradfit_command
from numpy.testing import assert_array_equal

import gradfit
from gradfit.cli.exits import Exit

FAST = ["--hidden", "8", "--epochs", "15", "--no-plots"]


@pytest.fixture
def model(invoke: Invoke, sine_csv: Path) -> Path:
    """A model fitted by the CLI on the sine data (one feature x, one target y)."""
    path = sine_csv.parent / "model.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", *FAST, "--out", path)
    assert result.exit_code == 0, result.stderr
    return path


def test_fit_writes_model_history_and_figures(invoke: Invoke, sine_csv: Path) -> None:
    pytest.importorskip("matplotlib")
    out = sine_csv.parent / "sine.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", "--hidden", 8, "--epochs", 12, "--out", out)
    assert result.exit_code == 0, result.stderr
    names = ["sine.safetensors", "sine.history.csv", "sine.loss.png", "sine.fit.png"]
    assert result.stdout.splitlines()[-1] == "wrote " + ", ".join(
        str(out.parent / n) for n in names
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "MLP 1 → 8 → 1 (relu, 25 parameters, mean squared error): x -> y"
    assert lines[1] == "trained 12 epochs on 40 rows"
    assert lines[2] == (
        "reached --epochs 12 (no early stopping: a held-out part would have fewer than 30 rows)"
    )
    assert lines[3].split() == ["target", "data", "rows", "R²", "RMSE", "MAE"]
    assert lines[4].split()[:3] == ["y", "training", "40"]
    assert lines[5] == (
        "no rows were held out, so these scores flatter the model; "
        "score new data with `gradfit evaluate`"
    )
    history = pd.read_csv(out.parent / "sine.history.csv")
    loaded = gradfit.load(out)
    assert_array_equal(history["epoch"], np.arange(1, 13))
    assert_array_equal(history["loss"], loaded.loss_curve_)
    assert loaded.target_names_ == ["y"]
    assert list(loaded.feature_names_in_) == ["x"]


def test_predict_matches_the_loaded_model_and_ignores_extra_columns(
    invoke: Invoke, model: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(-5, 5, 9)
    data = tmp_path / "new.csv"
    pd.DataFrame({"id": [f"r{i}" for i in range(9)], "noise": rng.normal(size=9), "x": x}).to_csv(
        data, index=False
    )
    result = invoke("predict", model, data, "--out", tmp_path / "pred.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"wrote 9 predictions to {tmp_path / 'pred.csv'}\n"
    predictions = pd.read_csv(tmp_path / "pred.csv")
    assert list(predictions.columns) == ["y"]
    expected = gradfit.load(model).predict(pd.DataFrame({"x": x}))
    assert_array_equal(predictions["y"].to_numpy(), expected)


def test_predict_to_standard_output_writes_the_csv_there_and_no_file(
    invoke: Invoke, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    x = np.linspace(-4, 4, 5)
    data = tmp_path / "new.csv"
    pd.DataFrame({"x": x}).to_csv(data, index=False)
    result = invoke("predict", model, data, "--out", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "wrote 5 predictions to standard output\n"
    lines = result.stdout.splitlines()
    assert lines[0] == "y"
    expected = gradfit.load(model).predict(pd.DataFrame({"x": x}))
    assert_array_equal([float(v) for v in lines[1:]], expected)
    assert not (tmp_path / "-").exists()


def test_predict_into_a_closed_pipe_stops_quietly(model: Path, tmp_path: Path) -> None:
    data = tmp_path / "many.csv"
    pd.DataFrame({"x": np.linspace(-4, 4, 20000)}).to_csv(data, index=False)
    command = " ".join(f"'{a}'" for a in gradfit_command("predict", model, data, "--out", "-"))
    done = subprocess.run(
        f"{command} | head -n 1", shell=True, capture_output=True, text=True, env=ENV, timeout=120
    )
    assert done.stdout == "y\n"
    assert done.stderr == ""


def test_two_targets_give_two_named_prediction_columns(invoke: Invoke, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(2, 30))
    data = tmp_path / "two.csv"
    pd.DataFrame({"a": a, "b": b, "sum": a + b, "diff": a - b}).to_csv(data, index=False)
    out = tmp_path / "two.safetensors"
    fitted = invoke("fit", data, "--target", "sum", "--target", "diff", *FAST, "--out", out)
    assert fitted.exit_code == 0, fitted.stderr
    assert "): a, b -> sum, diff\n" in fitted.stdout
    assert invoke("predict", out, data, "--out", tmp_path / "p.csv").exit_code == 0
    predictions = pd.read_csv(tmp_path / "p.csv")
    assert list(predictions.columns) == ["sum", "diff"]
    expected = gradfit.load(out).predict(pd.DataFrame({"a": a, "b": b}))
    assert_array_equal(predictions.to_numpy(), expected)


def test_predict_names_the_missing_feature(invoke: Invoke, model: Path, tmp_path: Path) -> None:
    data = tmp_path / "wrong.csv"
    data.write_text("t,y\n1,2\n")
    kept = tmp_path / "pred.csv"
    kept.write_text("y\n1.0\n")
    result = invoke("predict", model, data, "--out", kept)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(result.stderr, "wrong.csv", "feature column(s) 'x' not found")
    assert kept.read_text() == "y\n1.0\n"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        (b"x,y\n1,2\n", "not a valid gradfit model"),
        (b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00", "pickle"),
        ("truncated", "truncated"),
    ],
)
def test_predict_refuses_a_file_that_is_not_a_model(
    invoke: Invoke, model: Path, sine_csv: Path, content: bytes | str | None, fragment: str
) -> None:
    bad = sine_csv.parent / "bad.safetensors"
    if content == "truncated":
        bad.write_bytes(model.read_bytes()[:-9])
    elif isinstance(content, bytes):
        bad.write_bytes(content)
    kept = sine_csv.parent / "pred.csv"
    kept.write_text("y\n1.0\n")
    result = invoke("predict", bad, sine_csv, "--out", kept)
    assert result.exit_code == Exit.BAD_MODEL
    assert_one_line_error(result.stderr, "bad.safetensors", fragment)
    assert kept.read_text() == "y\n1.0\n"


def test_divergence_keeps_the_good_model_and_writes_the_last_finite_one(
    invoke: Invoke, model: Path, sine_csv: Path
) -> None:
    good = model.read_bytes()
    result = invoke(
        "fit", sine_csv, "--target", "y", "--solver", "sgd", "--lr", 1, "--epochs", 100,
        "--no-plots", "--out", model,
    )  # fmt: skip
    diverged = model.with_name("model.diverged.safetensors")
    assert result.exit_code == Exit.DIVERGED
    assert_one_line_error(result.stderr, "training diverged in epoch", f"'{diverged}'", "untouched")
    assert model.read_bytes() == good
    last = gradfit.load(diverged)
    assert 0 < last.n_iter_ < 100
    assert np.isfinite(last.predict(pd.read_csv(sine_csv)[["x"]])).all()


def test_a_checkpoint_of_another_run_is_refused(
    invoke: Invoke, model: Path, sine_csv: Path, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "run.ckpt"
    args = ["fit", sine_csv, "--target", "y", *FAST, "--seed", 1, "--checkpoint", checkpoint]
    first = invoke(*args, "--checkpoint-every", 5, "--out", tmp_path / "m.safetensors")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.rstrip().endswith(f", {checkpoint}")
    result = invoke(*args, "--lr", 0.5, "--resume", "--out", tmp_path / "m2.safetensors")
    assert result.exit_code == Exit.USAGE, result.stderr
    assert_one_line_error(result.stderr, "run.ckpt belongs to another run", "--lr: ")
    missing = invoke(*args[:-1], tmp_path / "none.ckpt", "--resume", "--out", model)
    assert missing.exit_code == Exit.BAD_MODEL
    assert_one_line_error(missing.stderr, "--resume: there is no checkpoint", "none.ckpt")


@pytest.mark.parametrize(
    ("first", "then"), [("classification", "regression"), ("regression", "classification")]
)
def test_a_checkpoint_of_the_other_task_is_refused_naming_the_task(
    invoke: Invoke, tmp_path: Path, first: str, then: str
) -> None:
    """--task was not named among the differences; the defaults that differ by task
    (--lr, --activation, …) were, as if the user had changed them."""
    rng = np.random.default_rng(0)
    data = tmp_path / "d.csv"
    x = rng.normal(size=40)
    pd.DataFrame({"x": x, "k": (x > 0).astype(int) + (x > 1)}).to_csv(data, index=False)
    checkpoint = tmp_path / "run.ckpt"
    args = ["fit", data, "--target", "k", *FAST, "--checkpoint", checkpoint, "--out",
            tmp_path / "m.safetensors"]  # fmt: skip
    assert invoke(*args, "--task", first, "--checkpoint-every", 5).exit_code == 0
    before = checkpoint.read_bytes()
    result = invoke(*args, "--task", then, "--resume", "--epochs", 20)
    assert result.exit_code == Exit.USAGE
    assert result.stderr == (
        f"gradfit: error: {checkpoint} belongs to another run (--task: {first!r} then, "
        f"{then!r} now); rerun with the same data and options, or start afresh without --resume\n"
    )
    assert checkpoint.read_bytes() == before


def test_device_needs_the_torch_backend(invoke: Invoke, sine_csv: Path) -> None:
    result = invoke("fit", sine_csv, "--target", "y", "--device", "cuda", "--out", "m.safetensors")
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "--device needs --backend torch")


@pytest.mark.parametrize("cuda_build", [None, "12.4"])
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_device_cuda_without_a_gpu_is_one_line_and_a_usage_error(
    invoke: Invoke,
    sine_csv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cuda_build: str | None,
    device: str,
) -> None:
    """It was the library's words, 'use device='cpu'', and exit 6 (a missing dependency)."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", cuda_build)
    out = tmp_path / "m.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", "--backend", "torch", "--device", device,
                    "--out", out)  # fmt: skip
    assert result.exit_code == Exit.USAGE
    build = "" if cuda_build else f"; this PyTorch, {torch.__version__}, is built without it"
    assert result.stderr == (
        f"gradfit: error: --device {device}: no CUDA device is available here "
        f"(torch.cuda.is_available() is False{build}); use --device cpu\n"
    )
    assert result.stdout == "" and not out.exists()


def test_gradcheck_prints_the_table_and_fails_on_disagreement(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    from gradfit import gradcheck

    result = invoke("gradcheck", "--sizes", "2,3,1", "--activation", "tanh", "--seed", 1)
    assert result.exit_code == 0, result.stderr
    assert "W1" in result.stdout and "OK: all three agree" in result.stdout

    real = gradcheck.random_check

    def broken(*args: object, **kwargs: object) -> gradcheck.GradientReport:
        report = real(*args, **kwargs)  # type: ignore[arg-type]
        report.gradients["engine"][0] = report.gradients["engine"][0] * 1.01
        return report

    monkeypatch.setattr(gradcheck, "random_check", broken)
    result = invoke("gradcheck")
    assert result.exit_code == Exit.FAILURE
    assert "MISMATCH" in result.stdout
    assert result.stderr == (
        "gradfit: error: the gradients disagree: engine vs autograd on 1 parameter(s); "
        "engine vs finite differences on 1 parameter(s) (see the table above)\n"
    )


def test_gradcheck_says_when_only_finite_differences_disagree(invoke: Invoke) -> None:
    # 50 layers of one unit: gradients of ~1e-10 whose central differences round at
    # 1e-5 of them. It said "the gradients disagree", the engine seemingly wrong.
    pytest.importorskip("torch")
    result = invoke("gradcheck", "--sizes", ",".join(["1"] * 50))
    assert result.exit_code == Exit.FAILURE
    assert result.stderr == (
        "gradfit: error: the gradients disagree: engine vs finite differences on 24 "
        "parameter(s); autograd vs finite differences on 24 parameter(s) (the engine and "
        "autograd agree) (see the table above)\n"
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        # Read as --sizes 2,1: a network without the layer the typo left out, "OK".
        (
            ["--sizes", "2,,1"],
            "Invalid value for '--sizes': '2,,1' has an empty size between "
            "commas; give each size (see 'gradfit gradcheck --help')",
        ),
        # One logit's softmax is 1 whatever it is: every gradient 0, and "OK".
        (
            ["--sizes", "2,8,1", "--loss", "cross_entropy"],
            "--loss cross_entropy needs at "
            "least two outputs in --sizes (a logit per class); got 1 (binary_cross_entropy "
            "takes one)",
        ),
    ],
)
def test_gradcheck_refuses_a_check_that_would_say_nothing(
    invoke: Invoke, args: list[str], line: str
) -> None:
    result = invoke("gradcheck", *args)
    assert result.exit_code == Exit.USAGE
    assert result.stdout == ""
    assert result.stderr == f"gradfit: error: {line}\n"


def test_gradcheck_covers_the_gaussian_head(invoke: Invoke) -> None:
    pytest.importorskip("torch")
    result = invoke(
        "gradcheck", "--sizes", "2,5,2", "--activation", "relu", "--loss", "gaussian_nll"
    )
    assert result.exit_code == 0, result.stderr
    assert "gaussian_nll over 8 samples" in result.stdout and "OK: all three agree" in result.stdout
    result = invoke("gradcheck", "--sizes", "2,5,1", "--loss", "gaussian_nll")
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "gaussian_nll needs an even number of outputs")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predict_with_models_saved_from_python(invoke: Invoke, tmp_path: Path) -> None:
    """A network or an estimator fitted on arrays has no feature names: the columns of
    DATA, all of them in order, are its inputs."""
    from gradfit.engine import MLP
    from gradfit.estimator import MLPRegressor

    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 2))
    data = tmp_path / "data.csv"
    pd.DataFrame(X, columns=["u", "v"]).to_csv(data, index=False)
    net = MLP([2, 4, 1], "tanh", rng=rng)
    estimator = MLPRegressor((4,), max_iter=3, random_state=0).fit(X, X.sum(axis=1))
    for model, expected in ((net, net.forward(X)[:, 0]), (estimator, estimator.predict(X))):
        gradfit.save(model, tmp_path / "m.safetensors")
        result = invoke("predict", tmp_path / "m.safetensors", data, "--out", tmp_path / "p.csv")
        assert result.exit_code == 0, result.stderr
        predictions = pd.read_csv(tmp_path / "p.csv")
        assert list(predictions.columns) == ["prediction"]
        assert_array_equal(predictions["prediction"].to_numpy(), expected)

    pd.DataFrame(X, columns=["u", "v"]).assign(w=1.0).to_csv(data, index=False)
    result = invoke("predict", tmp_path / "m.safetensors", data, "--out", tmp_path / "p.csv")
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(result.stderr, "no feature names and takes 2 input(s)", "3 column(s)")


def test_parquet_in_parquet_out_equals_csv(invoke: Invoke, sine_csv: Path, model: Path) -> None:
    pytest.importorskip("pyarrow")
    parquet = sine_csv.with_suffix(".parquet")
    pd.read_csv(sine_csv).to_parquet(parquet)
    out = sine_csv.parent / "from-parquet.safetensors"
    assert invoke("fit", parquet, "--target", "y", *FAST, "--out", out).exit_code == 0
    assert invoke("predict", out, parquet, "--out", sine_csv.parent / "a.csv").exit_code == 0
    assert invoke("predict", model, sine_csv, "--out", sine_csv.parent / "b.csv").exit_code == 0
    a, b = (pd.read_csv(sine_csv.parent / name) for name in ("a.csv", "b.csv"))
    assert_array_equal(a.to_numpy(), b.to_numpy())


def test_bf16_mixed_precision_needs_torch_and_float32(
    invoke: Invoke, sine_csv: Path, tmp_path: Path
) -> None:
    model = tmp_path / "m.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", "--precision", "bf16-mixed", "--out", model)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "--precision bf16-mixed needs --backend torch")
    assert not model.exists()
    pytest.importorskip("torch")
    args = ("--backend", "torch", "--dtype", "float32", "--epochs", 20, "--hidden", 16)
    result = invoke("fit", sine_csv, "--target", "y", "--precision", "bf16-mixed", *args,
                    "--out", model)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    from gradfit import load

    assert load(model).get_params()["precision"] == "bf16-mixed"
