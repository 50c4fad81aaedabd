"""``gradfit fit --distributed`` of a classifier under torchrun: 2 CPU ranks (gloo,
loopback) against one process, on a CSV, a Parquet and a ``.npy`` file of the same
labelled rows.

The labels are found in the statistics pass over the chunks (every rank the same
classes), the validation split is stratified by them as in one process, and the
validation loss and the accuracy curves are summed across the ranks: the ranks' model
is the one-process model to ``rtol 1e-10``, with the same classes, curves and stop.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _launch import environment, launch, result, torchrun
from click.testing import CliRunner
from numpy.testing import assert_allclose, assert_array_equal

torch = pytest.importorskip("torch")
pa = pytest.importorskip("pyarrow")

from gradfit import MLPClassifier, load  # noqa: E402
from gradfit.cli import cli  # noqa: E402
from gradfit.io.arrays import open_rows  # noqa: E402

pytestmark = [
    pytest.mark.torch,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]
N_ROWS = 300
FORMATS = ("csv", "parquet", "npy")
OPTIONS = [
    "--target", "3", "--backend", "torch", "--hidden", "8", "--activation", "tanh",
    "--epochs", "300", "--batch-size", "32", "--lr", "0.02", "--seed", "5", "--alpha", "1e-3",
    "--early-stopping", "--validation-fraction", "0.2", "--tol", "1e-3",
    "--n-iter-no-change", "3",
    # One network in both: n_members="auto" trains five in one process that holds out rows,
    # one on rows read in chunks by the ranks.
    "--ensemble", "1",
]  # fmt: skip
# The estimator from Python, on a .npy file of several chunks, with two classes (a
# sigmoid and binary cross-entropy) weighted "balanced", against one process.
FIT: dict[str, Any] = {
    "fit": {"hidden_layer_sizes": [6], "activation": "tanh", "batch_size": 30,
            "learning_rate_init": 0.01, "max_iter": 8, "random_state": 2, "solver": "sgd",
            "n_members": 1, "momentum": 0.9, "class_weight": "balanced", "early_stopping": True,
            "validation_fraction": 0.25},
    "chunk_rows": 40,
    "classifier": True,
}  # fmt: skip

RESUMED: dict[str, dict[str, Any]] = {
    "whole": {},
    "part": {"interrupt_after": 3},
    "resumed": {"resume": True},
}


def labelled_rows() -> np.ndarray:
    """Three features on different scales, and a label 0, 1 or 2 of the first two."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, 3)) * [1.0, 50.0, 0.01] + [0.0, 300.0, -2.0]
    score = np.sin(2 * X[:, 0]) + (X[:, 1] - 300) / 50 + 0.3 * rng.normal(size=N_ROWS)
    y = np.digitize(score, [-0.5, 0.5])
    return np.hstack([X, y[:, None]])


def write_files(folder: Path) -> dict[str, Path]:
    """The same table, columns "0"…"3" (labels in "3"), as CSV, Parquet and ``.npy``."""
    import pyarrow.parquet as pq

    A = labelled_rows()
    paths = {fmt: folder / f"data.{fmt}" for fmt in FORMATS}
    lines = ["0,1,2,3", *(",".join([*map(repr, row[:3].tolist()), str(int(row[3]))])
                          for row in A)]  # fmt: skip
    paths["csv"].write_text("\n".join(lines) + "\n")
    columns = {str(j): A[:, j] for j in range(3)} | {"3": A[:, 3].astype(np.int64)}
    pq.write_table(pa.table(columns), paths["parquet"])
    np.save(paths["npy"], A)
    binary = A.copy()
    binary[:, 3] = binary[:, 3] == 2  # a third of the rows: unbalanced
    np.save(folder / "binary.npy", binary)
    return paths


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_files(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def launched(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    runs: list[dict[str, Any]] = [
        {"cli": ["fit", str(files[fmt]), *OPTIONS, "--distributed",
                 "--out", str(out / f"{fmt}.safetensors")]}
        for fmt in FORMATS
    ]  # fmt: skip
    binary = files["npy"].with_name("binary.npy")
    runs.append({**FIT, "data": str(binary), "target": ["3"], "out": str(out / "binary")})
    # Interrupted at the end of epoch 3 of 6 (rank 0 checkpoints every epoch), then resumed.
    for name, extra in RESUMED.items():
        part = {**FIT, "data": str(binary), "target": ["3"]}
        part["fit"] = part["fit"] | {"max_iter": 6, "early_stopping": False}
        if name != "whole":
            extra = extra | {"checkpoint": str(out / "part.ckpt")}
        runs.append({**part, **extra, "out": str(out / name)})
    (out / "stdout.txt").write_text(launch(runs))
    return out


@pytest.fixture(scope="module")
def reference(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``gradfit fit data.csv --backend torch`` in one process, without --distributed."""
    path = tmp_path_factory.mktemp("ref") / "ref.safetensors"
    done = CliRunner().invoke(cli, ["fit", str(files["csv"]), *OPTIONS, "--out", str(path)])
    assert done.exit_code == 0, done.output
    (path.parent / "stdout.txt").write_text(done.output)
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_ranks_on_each_format_give_the_one_process_classifier(
    launched: Path, reference: Path, fmt: str
) -> None:
    ours, theirs = load(launched / f"{fmt}.safetensors"), load(reference)
    assert isinstance(ours, MLPClassifier)
    assert theirs.stop_reason_ == "early_stopping" and 10 < theirs.n_iter_ < 300
    assert ours.n_iter_ == theirs.n_iter_ and ours.best_epoch_ == theirs.best_epoch_
    assert_array_equal(ours.classes_, [0, 1, 2])
    assert ours.classes_.dtype == theirs.classes_.dtype == np.int64
    assert list(ours.feature_names_in_) == ["0", "1", "2"]
    assert_allclose(ours.x_scaler_.scale, theirs.x_scaler_.scale, rtol=1e-12)
    for p, q in zip(ours.net_.parameters(), theirs.net_.parameters(), strict=True):
        assert_allclose(p, q, rtol=1e-10, atol=1e-14)
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert_allclose(ours.validation_loss_curve_, theirs.validation_loss_curve_, rtol=1e-10)
    # Accuracies are counts over the rows, summed across the ranks: exactly equal.
    assert ours.accuracy_curve_ == theirs.accuracy_curve_
    assert ours.validation_accuracy_curve_ == theirs.validation_accuracy_curve_
    assert 0.8 < theirs.validation_accuracy_curve_[theirs.best_epoch_ - 1] < 1
    # Rank 0 alone wrote the history (with the accuracies) and the figures.
    history = (launched / f"{fmt}.history.csv").read_text().splitlines()
    assert history[0] == "epoch,loss,val_loss,restored,accuracy,val_accuracy"
    assert len(history) == 1 + ours.n_iter_
    assert (launched / f"{fmt}.training.png").stat().st_size > 0
    # A file read in chunks draws the curves alone; a CSV in memory, every figure.
    assert (launched / f"{fmt}.confusion.png").exists() == (fmt == "csv")


def test_rank_zero_alone_prints_the_summary_of_plain_fit(launched: Path, reference: Path) -> None:
    stdout = (launched / "stdout.txt").read_text()
    plain = (reference.parent / "stdout.txt").read_text()
    table = plain.split("wrote")[0]
    assert "task: classification of '3' (integers with 3 distinct values)" in table
    assert "early stop at epoch" in table and "held-out rows" in table
    assert stdout.count(table) == 3  # the same lines, once per format, from rank 0 alone


@pytest.mark.parametrize("fmt", FORMATS)
def test_predict_gives_the_one_process_labels_and_probabilities(
    launched: Path, reference: Path, files: dict[str, Path], fmt: str
) -> None:
    def predicted(model: Path, name: str) -> tuple[list[str], np.ndarray]:
        out = launched / name
        done = CliRunner().invoke(
            cli, ["predict", str(model), str(files["csv"]), "--out", str(out)]
        )
        assert done.exit_code == 0, done.output
        lines = out.read_text().splitlines()
        return lines[0].split(","), np.loadtxt(out, delimiter=",", skiprows=1)

    head, ours = predicted(launched / f"{fmt}.safetensors", f"pred-{fmt}.csv")
    theirs_head, theirs = predicted(reference, f"pred-ref-{fmt}.csv")
    assert head == theirs_head == ["3", "P(0)", "P(1)", "P(2)"]
    assert_array_equal(ours[:, 0], theirs[:, 0])
    assert_allclose(ours[:, 1:], theirs[:, 1:], rtol=1e-10, atol=1e-15)
    assert np.mean(ours[:, 0] == labelled_rows()[:, 3]) > 0.75  # a third by chance


def test_the_estimator_on_two_ranks_is_the_estimator_in_one_process(
    launched: Path, files: dict[str, Path]
) -> None:
    ranks = result(launched / "binary")  # both ranks hold the same model
    source = open_rows(files["npy"].with_name("binary.npy"), target=["3"],
                       chunk_rows=FIT["chunk_rows"])  # fmt: skip
    assert len(source.bounds) > 2  # several chunks: the order is drawn chunk by chunk
    one = MLPClassifier(backend="torch", **FIT["fit"]).fit(source)
    assert_array_equal(ranks["classes"], [0, 1]) and one.n_outputs_ == 1
    assert_allclose(ranks["loss"], one.loss_curve_, rtol=1e-10)
    assert_allclose(ranks["val_loss"], one.validation_loss_curve_, rtol=1e-10)
    assert_array_equal(ranks["accuracy"], one.accuracy_curve_)
    assert_array_equal(ranks["val_accuracy"], one.validation_accuracy_curve_)
    for i, q in enumerate(one.net_.parameters()):
        assert_allclose(ranks[f"param.{i}"], q, rtol=1e-10, atol=1e-14)
    # One process on the source is the classifier on the same rows in memory, with its
    # stratified split and balanced weights (the NumPy engine, one chunk for the order).
    A = np.load(files["npy"].with_name("binary.npy"))
    whole = open_rows(files["npy"].with_name("binary.npy"), target=["3"])
    streamed = MLPClassifier(**FIT["fit"]).fit(whole)
    in_memory = MLPClassifier(**FIT["fit"]).fit(A[:, :3], A[:, 3].astype(int))
    assert_array_equal(streamed.validation_rows_, in_memory.validation_rows_)
    assert_allclose(streamed.loss_curve_, in_memory.loss_curve_, rtol=1e-10)
    for p, q in zip(streamed.net_.parameters(), in_memory.net_.parameters(), strict=True):
        assert_allclose(p, q, rtol=1e-10, atol=1e-14)


def test_a_classifier_interrupted_and_resumed_under_two_ranks_ends_as_an_uninterrupted_one(
    launched: Path,
) -> None:
    whole = result(launched / "whole")
    assert not list(launched.glob("part.rank*.npz"))  # the interrupted run returned nothing
    resumed = result(launched / "resumed")
    assert list(resumed["trained"]) == [4, 5, 6]  # it resumed; it did not start over
    assert len(whole["accuracy"]) == len(resumed["accuracy"]) == 6
    keys = ("loss", "val_loss", "accuracy", "val_accuracy", "classes")
    for key in (*keys, *(k for k in whole if k.startswith("param."))):
        np.testing.assert_array_equal(resumed[key], whole[key])


def fit_one(data: Path, out: Path, *options: str) -> Any:
    """``gradfit fit --distributed`` without torchrun: a group of one, in this process."""
    args = ["fit", str(data), "--target", "3", "--backend", "torch", "--distributed",
            "--epochs", "2", "--no-plots", *options, "--out", str(out)]  # fmt: skip
    return CliRunner().invoke(cli, args)


def test_bad_labels_in_a_file_read_in_chunks_are_one_clear_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    A = np.hstack([rng.normal(size=(40, 3)), rng.normal(size=(40, 1))])
    np.save(tmp_path / "numbers.npy", A)
    done = fit_one(tmp_path / "numbers.npy", tmp_path / "m.safetensors")
    assert done.exit_code == 0 and "task:" not in done.output  # numbers: a regression
    done = fit_one(tmp_path / "numbers.npy", tmp_path / "c.safetensors",
                   "--task", "classification")  # fmt: skip
    assert done.exit_code == 3
    assert done.output.startswith("gradfit: error: Unknown label type: continuous")
    assert "--task regression" in done.output and len(done.output.splitlines()) == 1
    A[:, 3] = 7
    np.save(tmp_path / "one.npy", A)
    done = fit_one(tmp_path / "one.npy", tmp_path / "c.safetensors", "--task", "classification")
    assert done.exit_code == 3 and "y has only one class (7)" in done.output
    assert not (tmp_path / "c.safetensors").exists()
    done = fit_one(tmp_path / "numbers.npy", tmp_path / "c.safetensors", "--loss", "sse",
                   "--task", "classification")  # fmt: skip
    assert done.exit_code == 2 and "--loss is for regression" in done.output


def test_integer_labels_are_decided_from_the_file_and_said(tmp_path: Path) -> None:
    A = labelled_rows()
    np.save(tmp_path / "d.npy", A)
    done = fit_one(tmp_path / "d.npy", tmp_path / "m.safetensors")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(
        "task: classification of '3' (integers with 3 distinct values); "
        "--task regression to choose otherwise\n"
    )
    assert "accuracy" in done.output and load(tmp_path / "m.safetensors").n_outputs_ == 3
    done = fit_one(tmp_path / "d.npy", tmp_path / "r.safetensors", "--task", "regression")
    assert done.exit_code == 0 and "R²" in done.output


def test_a_label_error_under_torchrun_is_one_line_from_rank_zero(tmp_path: Path) -> None:
    A = np.hstack([np.random.default_rng(2).normal(size=(40, 4))])
    np.save(tmp_path / "numbers.npy", A)
    cmd = torchrun(2, "-m", "gradfit", "fit", str(tmp_path / "numbers.npy"), "--target", "3",
                   "--task", "classification", "--distributed", "--backend", "torch",
                   "--out", str(tmp_path / "m.safetensors"))  # fmt: skip
    done = subprocess.run(cmd, env=environment(), capture_output=True, text=True, timeout=180)
    errors = [line for line in done.stderr.splitlines() if line.startswith("gradfit: error:")]
    assert len(errors) == 1 and "Unknown label type: continuous" in errors[0], done.stderr
    # No Python traceback of gradfit's (torchrun prints its own report of the exit codes).
    assert "DataError" not in done.stderr and "gloo" not in done.stderr.lower()
    assert not (tmp_path / "m.safetensors").exists()
