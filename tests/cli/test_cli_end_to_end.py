"""The real command in a subprocess: demo, fit then predict, report, and Ctrl-C."""

from __future__ import annotations

import base64
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import ENV, Invoke, assert_one_line_error, gradfit_command, run_gradfit
from numpy.testing import assert_allclose, assert_array_equal

import gradfit
from gradfit.cli import cli
from gradfit.cli.exits import Exit
from gradfit.estimator import MLPRegressor

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_version_and_help_from_python_m() -> None:
    result = run_gradfit("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"gradfit, version {gradfit.__version__}"


@pytest.mark.parametrize("command", [None, *sorted(cli.commands)])
def test_every_command_has_help_with_the_exit_codes(invoke: Invoke, command: str | None) -> None:
    result = invoke(*([command] if command else []), "--help")
    assert result.exit_code == 0
    assert "Usage: gradfit" in result.stdout
    assert "Exit status:" in result.stdout
    assert "130  interrupted by Ctrl-C" in result.stdout


def test_demo_writes_every_figure(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    out = tmp_path / "figures"
    result = run_gradfit("demo", "--out", out, "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    listed = sorted(
        Path(line.strip()) for line in result.stdout.splitlines() if line.strip().endswith(".png")
    )
    written = sorted(out.iterdir())
    assert listed == written
    names = [p.name for p in written]
    assert any("torch" in n for n in names), names
    assert any("torch" not in n for n in names), names
    for path in written:
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC), path
        assert len(data) > 10_000, f"{path} looks blank"


def read_columns(path: Path) -> tuple[list[str], np.ndarray]:
    """The header and the cells of a CSV file, an empty cell as NaN."""
    frame = pd.read_csv(path)
    return list(frame.columns), frame.to_numpy(dtype=np.float64)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_then_predict_reproduces_the_python_api(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(1)
    x1, x2 = rng.uniform(-2, 2, size=(2, 60))
    y = np.sin(x1) + 0.5 * x2 + rng.normal(0, 0.1, 60)
    data = tmp_path / "train.csv"
    np.savetxt(data, np.column_stack([x1, x2, y]), delimiter=",", header="x1,x2,y", comments="")
    model_path = tmp_path / "model.safetensors"
    options = ["--hidden", 8, "--hidden", 8, "--activation", "tanh", "--epochs", 40]
    options += ["--lr", 0.01, "--batch-size", 16, "--seed", 7]
    fitted = run_gradfit("fit", data, "--target", "y", *options, "--out", model_path)
    assert fitted.returncode == 0, fitted.stderr
    assert fitted.stdout.startswith(
        "MLP 2 → 8 → 8 → 1 (tanh, 105 parameters, mean squared error): x1, x2 -> y\n"
        "trained 40 epochs on 60 rows\n"
    )
    predicted = run_gradfit("predict", model_path, data, "--out", tmp_path / "pred.csv")
    assert predicted.returncode == 0, predicted.stderr

    X = np.column_stack([x1, x2])
    model = MLPRegressor(
        hidden_layer_sizes=(8, 8),
        activation="tanh",
        max_iter=40,
        learning_rate_init=0.01,
        batch_size=16,
        random_state=7,
    ).fit(X, y)
    header, predictions = read_columns(tmp_path / "pred.csv")
    assert header == ["y"]
    assert_allclose(predictions[:, 0], model.predict(X), rtol=1e-12, atol=0)

    header, history = read_columns(tmp_path / "model.history.csv")
    assert header == ["epoch", "loss", "val_loss", "restored"]
    assert_array_equal(history[:, 0], np.arange(1, 41))
    assert_allclose(history[:, 1], model.loss_curve_, rtol=1e-12)
    assert np.isnan(history[:, 2]).all(), "no validation split: val_loss cells are empty"
    assert (tmp_path / "model.loss.png").read_bytes().startswith(PNG_MAGIC)
    assert not (tmp_path / "model.fit.png").exists(), "two inputs: no fitted-function figure"


def test_report_writes_html_embedding_all_its_figures(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    out = tmp_path / "report.html"
    result = run_gradfit("report", "--out", out, "--seed", 2)
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    images = re.findall(r"<img\b[^>]*>", html)
    sources = [re.search(r'src="([^"]*)"', tag) for tag in images]
    assert len(images) >= 10
    assert len(images) == html.count("<figure")
    for found in sources:
        assert found is not None
        assert found.group(1).startswith("data:image/png;base64,")
        png = base64.b64decode(found.group(1).split(",", 1)[1])
        assert png.startswith(PNG_MAGIC) and len(png) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"], "only the one file"


def test_bad_data_in_a_real_process_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n2,two\n")
    result = run_gradfit("fit", data, "--target", "y", "--out", tmp_path / "m.safetensors")
    assert result.returncode == Exit.BAD_DATA
    assert (
        result.stderr
        == f"gradfit: error: {data}: column 'y', row 2 (line 3): 'two' is not a number; if "
        "the column holds labels, --task classification\n"
    )
    assert list(tmp_path.iterdir()) == [data]


def test_ctrl_c_saves_a_checkpoint_and_resume_is_exact(tmp_path: Path) -> None:
    """SIGINT a run, resume it to 10 epochs, and get what an uninterrupted run gets."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, 600)
    data = tmp_path / "data.csv"
    pd.DataFrame({"x": x, "y": 4 * np.sin(x) + rng.normal(0, 1, 600)}).to_csv(data, index=False)
    fit = ["fit", data, "--target", "y", "--hidden", 32, "--batch-size", 4, "--no-plots"]
    resumed, reference = tmp_path / "resumed.safetensors", tmp_path / "reference.safetensors"
    checkpoint = tmp_path / "resumed.checkpoint.safetensors"

    child = subprocess.Popen(
        gradfit_command(*fit, "--epochs", 100_000, "--checkpoint-every", 1, "--out", resumed),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == Exit.INTERRUPTED, stderr
    assert_one_line_error(stderr, "interrupted after epoch", str(checkpoint), "--resume")
    epoch = int(re.search(r"after epoch (\d+);", stderr).group(1))  # type: ignore[union-attr]
    assert 1 <= epoch < 10, "the run must be stopped before the 10 epochs compared below"
    assert not resumed.exists(), "an interrupted run writes no model"

    again = run_gradfit(*fit, "--epochs", 10, "--resume", "--out", resumed)
    assert again.returncode == 0, again.stderr
    whole = run_gradfit(*fit, "--epochs", 10, "--out", reference)
    assert whole.returncode == 0, whole.stderr
    assert (tmp_path / "resumed.history.csv").read_bytes() == (
        tmp_path / "reference.history.csv"
    ).read_bytes()
    X = pd.DataFrame({"x": x})
    assert_array_equal(gradfit.load(resumed).predict(X), gradfit.load(reference).predict(X))
