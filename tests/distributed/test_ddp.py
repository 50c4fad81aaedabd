"""``gradfit fit --distributed`` under torchrun: 2 CPU ranks (gloo, loopback) against one
process, on a CSV, a Parquet and a ``.npy`` file of the same data.

One launch of two ranks runs every command in turn (starting torch costs seconds per
process). The same standardisation, validation split, early stopping and L2 penalty
hold in both: the ranks' model is the one-process model to ``rtol 1e-10``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _launch import launch, result
from click.testing import CliRunner
from numpy.testing import assert_allclose

torch = pytest.importorskip("torch")
pa = pytest.importorskip("pyarrow")

from gradfit import MLPRegressor, load  # noqa: E402
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
    "--epochs", "200", "--batch-size", "32", "--lr", "0.02", "--seed", "5", "--alpha", "1e-3",
    "--early-stopping", "--validation-fraction", "0.2", "--tol", "1e-3",
    "--n-iter-no-change", "3",
    # One network in both: n_members="auto" trains five in one process that holds out rows,
    # one on rows read in chunks by the ranks.
    "--ensemble", "1",
]  # fmt: skip
# The estimator from Python, on a .npy file of several chunks, against one process.
FITS: dict[str, dict[str, Any]] = {
    "chunked": {
        "fit": {"hidden_layer_sizes": [6], "activation": "tanh", "batch_size": 30,
                "learning_rate_init": 0.01, "max_iter": 8, "random_state": 2, "n_members": 1,
                "solver": "sgd", "momentum": 0.9},
        "chunk_rows": 40,
    },
    "full": {
        "fit": {"hidden_layer_sizes": [6], "batch_size": None, "loss": "sse", "solver": "sgd",
                "learning_rate_init": 1e-4, "max_iter": 5, "random_state": 3,
                "early_stopping": False},
        "chunk_rows": 50,
    },
}  # fmt: skip


RESUMED: dict[str, dict[str, Any]] = {
    "whole": {},
    "part": {"interrupt_after": 3},
    "resumed": {"resume": True},
}


def write_files(folder: Path) -> dict[str, Path]:
    """The same table, columns "0"…"3", as CSV (exact decimal), Parquet and ``.npy``."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, 3)) * [1.0, 50.0, 0.01] + [0.0, 300.0, -2.0]
    y = np.sin(X[:, 0]) + X[:, 1] / 100 + 0.1 * rng.normal(size=N_ROWS)
    A = np.hstack([X, y[:, None]])
    paths = {fmt: folder / f"data.{fmt}" for fmt in FORMATS}
    lines = ["0,1,2,3", *(",".join(repr(float(v)) for v in row) for row in A)]
    paths["csv"].write_text("\n".join(lines) + "\n")
    pq.write_table(pa.table({str(j): A[:, j] for j in range(4)}), paths["parquet"])
    np.save(paths["npy"], A)
    return paths


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_files(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def launched(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    runs: list[dict[str, Any]] = [
        {
            "cli": [
                "fit",
                str(files[fmt]),
                *OPTIONS,
                "--distributed",
                "--out",
                str(out / f"{fmt}.safetensors"),
            ]
        }
        for fmt in FORMATS
    ]
    for name, run in FITS.items():
        runs.append({**run, "data": str(files["npy"]), "target": ["3"], "out": str(out / name)})
    # Interrupted at the end of epoch 3 of 6 (rank 0 checkpoints every epoch), then resumed.
    for name, extra in RESUMED.items():
        part = {**FITS["chunked"], "data": str(files["npy"]), "target": ["3"]}
        part["fit"] = part["fit"] | {"max_iter": 6}
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
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_ranks_on_each_format_give_the_one_process_model(
    launched: Path, reference: Path, fmt: str
) -> None:
    ours, theirs = load(launched / f"{fmt}.safetensors"), load(reference)
    assert theirs.n_iter_ < 200 and theirs.validation_loss_curve_  # it stopped early
    assert ours.n_iter_ == theirs.n_iter_
    assert list(ours.feature_names_in_) == ["0", "1", "2"]
    assert_allclose(ours.x_scaler_.scale, theirs.x_scaler_.scale, rtol=1e-12)
    assert_allclose(ours.y_scaler_.center, theirs.y_scaler_.center, rtol=1e-12)
    for p, q in zip(ours.net_.parameters(), theirs.net_.parameters(), strict=True):
        assert_allclose(p, q, rtol=1e-10, atol=1e-14)
    assert_allclose(ours.validation_loss_curve_, theirs.validation_loss_curve_, rtol=1e-10)
    # Rank 0 alone wrote the history and the figure beside the model, and summarised.
    history = (launched / f"{fmt}.history.csv").read_text().splitlines()
    assert history[0] == "epoch,loss,val_loss,restored" and len(history) == 1 + ours.n_iter_
    assert (launched / f"{fmt}.loss.png").stat().st_size > 0


def test_rank_zero_alone_prints_the_summary_of_plain_fit(
    launched: Path, reference: Path, files: dict[str, Path]
) -> None:
    stdout = (launched / "stdout.txt").read_text()
    plain = CliRunner().invoke(
        cli, ["fit", str(files["csv"]), *OPTIONS, "--out", str(reference.with_name("again.sft"))]
    )
    table = plain.output.split("wrote")[0]
    assert "early stop at epoch" in table and "validation" in table
    assert stdout.count(table) == 3  # the same lines, once per format, from rank 0 alone


@pytest.mark.parametrize("fmt", FORMATS)
def test_predict_on_each_file_gives_the_same_predictions(
    launched: Path, reference: Path, files: dict[str, Path], fmt: str
) -> None:
    expected = None
    for data in FORMATS:
        out = launched / f"pred-{fmt}-{data}.csv"
        done = CliRunner().invoke(
            cli,
            [
                "predict",
                str(launched / f"{fmt}.safetensors"),
                str(files[data]),
                "--out",
                str(out),
            ],
        )
        assert done.exit_code == 0, done.output
        predicted = np.loadtxt(out, delimiter=",", skiprows=1)
        if expected is None:
            reference_out = launched / f"pred-ref-{fmt}.csv"
            CliRunner().invoke(
                cli, ["predict", str(reference), str(files["csv"]), "--out", str(reference_out)]
            )
            expected = np.loadtxt(reference_out, delimiter=",", skiprows=1)
        assert predicted.shape == (N_ROWS,)
        assert_allclose(predicted, expected, rtol=1e-10)


@pytest.mark.parametrize("name", list(FITS))
def test_the_estimator_on_two_ranks_is_the_estimator_in_one_process(
    launched: Path, files: dict[str, Path], name: str
) -> None:
    run = FITS[name]
    ranks = result(launched / name)  # both ranks hold the same model
    source = open_rows(files["npy"], target=["3"], chunk_rows=run["chunk_rows"])
    assert len(source.bounds) > 2  # several chunks: the order is drawn chunk by chunk
    one = MLPRegressor(backend="torch", **run["fit"]).fit(source)
    assert_allclose(ranks["loss"], one.loss_curve_, rtol=1e-10)
    assert_allclose(ranks["val_loss"], one.validation_loss_curve_, rtol=1e-10)
    for i, q in enumerate(one.net_.parameters()):
        assert_allclose(ranks[f"param.{i}"], q, rtol=1e-10, atol=1e-14)
    start = MLPRegressor(backend="torch", **(run["fit"] | {"max_iter": 1})).fit(source)
    assert not np.allclose(ranks["param.0"], start.net_.parameters()[0], rtol=1e-3)


def test_interrupted_and_resumed_under_two_ranks_ends_where_an_uninterrupted_run_does(
    launched: Path,
) -> None:
    from gradfit.io.checkpoint import load_checkpoint

    whole = result(launched / "whole")
    assert not list(launched.glob("part.rank*.npz"))  # the interrupted run returned nothing
    assert load_checkpoint(launched / "part.ckpt")["epoch"] == 6  # the resumed run's last
    resumed = result(launched / "resumed")
    assert list(resumed["trained"]) == [4, 5, 6]  # it resumed; it did not start over
    assert list(whole["trained"]) == [1, 2, 3, 4, 5, 6]
    for key in ("loss", "val_loss", *(k for k in whole if k.startswith("param."))):
        np.testing.assert_array_equal(resumed[key], whole[key])
