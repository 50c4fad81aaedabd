"""``predict`` and ``evaluate`` a chunk of rows at a time: every format ``fit`` reads,
``--keep``, ``--out -``, the ``.npy`` column rule, and streamed scores equal to in-memory ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import Invoke, assert_one_line_error
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error, r2_score

import gradfit
from gradfit.cli.exits import Exit
from gradfit.cli.scores import Scorer
from gradfit.engine import MLP
from gradfit.errors import DataError
from gradfit.estimator import MLPClassifier, MLPRegressor
from gradfit.io import datafile, tabular
from gradfit.io.tabular import read_chunks, read_table

pytestmark = pytest.mark.filterwarnings("ignore:.*reached max_iter")

N = 57
CHUNK = "7"
FORMATS = ["csv", "parquet", "npy"]


def _data(seed: int = 0) -> pd.DataFrame:
    """Columns ``"0"``, ``"1"`` (inputs) and ``"2"`` (the target), named as a .npy's are."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (N, 2))
    return pd.DataFrame({"0": X[:, 0], "1": X[:, 1], "2": np.sin(X[:, 0]) - X[:, 1]})


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".npy":
        np.save(path, frame.to_numpy(dtype=np.float64))
    elif path.suffix == ".parquet":
        pytest.importorskip("pyarrow")
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def regressor(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MLPRegressor]:
    """A regressor of the features ``"0"``, ``"1"`` and target ``"2"``, as ``fit`` makes
    from a .npy file."""
    frame = _data()
    model = MLPRegressor((8,), max_iter=30, random_state=0, early_stopping=False, tol=0)
    model.fit(frame[["0", "1"]], frame["2"])
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    gradfit.save(model, path, target_names=["2"])
    return path, model


@pytest.mark.parametrize("fmt", FORMATS)
def test_predict_streams_every_format_and_equals_the_in_memory_predictions(
    invoke: Invoke, tmp_path: Path, regressor: tuple[Path, MLPRegressor], fmt: str
) -> None:
    path, model = regressor
    frame = _data(1)
    data = _write(frame, tmp_path / f"data.{fmt}")
    X = frame[["0", "1"]]
    whole = model.predict(X)
    for chunk in (7, 1, 100000):
        out = tmp_path / f"p{chunk}.csv"
        result = invoke("predict", path, data, "--out", out, "--chunk-rows", chunk)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == f"wrote {N} predictions to {out}\n"
        got = pd.read_csv(out)
        assert list(got.columns) == ["2"]
        # Exactly the model's predictions chunk by chunk; BLAS may round a product of 7
        # rows otherwise than one of 57 in the last bit, hence 1e-15 against all at once.
        by_chunk = np.concatenate([model.predict(X[i : i + chunk]) for i in range(0, N, chunk)])
        assert_array_equal(got["2"].to_numpy(), by_chunk)
        assert_allclose(got["2"].to_numpy(), whole, rtol=1e-15, atol=1e-15)


def test_the_same_model_predicts_the_same_on_csv_parquet_and_npy(
    invoke: Invoke, tmp_path: Path, regressor: tuple[Path, MLPRegressor]
) -> None:
    pytest.importorskip("pyarrow")
    path, _ = regressor
    texts = set()
    for fmt in FORMATS:
        data = _write(_data(2), tmp_path / f"d.{fmt}")
        result = invoke("predict", path, data, "--out", "-", "--chunk-rows", CHUNK)
        assert result.exit_code == 0, result.stderr
        texts.add(result.stdout)
    assert len(texts) == 1


def test_out_dash_writes_the_csv_to_standard_output_and_the_report_to_stderr(
    invoke: Invoke, tmp_path: Path, regressor: tuple[Path, MLPRegressor]
) -> None:
    path, _ = regressor
    data = _write(_data(3), tmp_path / "d.npy")
    to_file = invoke("predict", path, data, "--out", tmp_path / "p.csv", "--chunk-rows", CHUNK)
    to_stdout = invoke("predict", path, data, "--out", "-", "--chunk-rows", CHUNK)
    assert to_file.exit_code == to_stdout.exit_code == 0
    assert to_stdout.stdout == (tmp_path / "p.csv").read_text()
    assert to_stdout.stderr == f"wrote {N} predictions to standard output\n"
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("spool", [16 << 20, 64])
def test_out_dash_gets_nothing_when_a_later_chunk_fails(
    invoke: Invoke,
    tmp_path: Path,
    regressor: tuple[Path, MLPRegressor],
    monkeypatch: pytest.MonkeyPatch,
    spool: int,
) -> None:
    """Rows already predicted are not streamed ahead of a bad cell in a later chunk: a
    pipeline would take the cut-short table for the whole (as a file is, it is whole
    or nothing), whether the rows waited in memory or spilled to a temporary file."""
    from gradfit.io import atomic

    monkeypatch.setattr(atomic, "SPOOL_BYTES", spool)
    path, _ = regressor
    data = _write(_data(3), tmp_path / "d.csv")
    good = invoke("predict", path, data, "--out", "-", "--chunk-rows", CHUNK)
    assert good.exit_code == 0 and len(good.stdout.splitlines()) == N + 1
    lines = data.read_text().splitlines()
    lines[50] = "0.5,oops,1.0"  # row 50, in the eighth chunk of seven rows
    data.write_text("\n".join(lines) + "\n")
    result = invoke("predict", path, data, "--out", "-", "--chunk-rows", CHUNK)
    assert result.exit_code == Exit.BAD_DATA
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "column '1', row 50 (line 51): 'oops' is not a number")


def test_npy_columns_by_position_for_a_model_without_feature_names(
    invoke: Invoke, tmp_path: Path
) -> None:
    """A .npy of exactly the inputs, or of the inputs and the targets (as fit reads one),
    gives a model without feature names its inputs; any other width is one clear line."""
    frame = _data(4)
    X, y = frame[["0", "1"]].to_numpy(), frame["2"].to_numpy()
    net = MLP([2, 5, 1], "tanh", rng=np.random.default_rng(0))
    estimator = MLPRegressor((5,), max_iter=5, random_state=0, early_stopping=False).fit(X, y)
    # An engine network's file keeps no target names: it takes exactly its inputs.
    cases = [(net, "prediction", net.forward(X)[:, 0], [["0", "1"]]),
             (estimator, "2", estimator.predict(X), [["0", "1"], ["0", "1", "2"]])]  # fmt: skip
    for model, name, expected, files in cases:
        gradfit.save(model, tmp_path / "m.safetensors", target_names=["2"])
        for columns in files:
            data = _write(frame[columns], tmp_path / f"d{len(columns)}.npy")
            out = tmp_path / "p.csv"
            result = invoke("predict", tmp_path / "m.safetensors", data, "--out", out)
            assert result.exit_code == 0, result.stderr
            assert_array_equal(pd.read_csv(out)[name].to_numpy(), expected)
    wide = _write(frame.assign(extra=1.0), tmp_path / "d4.npy")
    result = invoke("predict", tmp_path / "m.safetensors", wide, "--out", tmp_path / "q.csv")
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr,
        "no feature names and takes 2 input(s)",
        "the file has 4 column(s)",
        "give a file whose columns are the 2 inputs in order, or those and its target "
        "column(s) '2'",
    )
    assert not (tmp_path / "q.csv").exists()


def test_a_model_fitted_on_npy_predicts_on_that_file(invoke: Invoke, tmp_path: Path) -> None:
    """fit names a .npy's columns by index; predict and evaluate take them by that rule."""
    data = _write(_data(5), tmp_path / "d.npy")
    model = tmp_path / "m.safetensors"
    fit = invoke("fit", data, "--target", "2", "--out", model, "--epochs", "3", "--no-plots")
    assert fit.exit_code == 0, fit.stderr
    result = invoke("predict", model, data, "--out", tmp_path / "p.csv", "--chunk-rows", CHUNK)
    assert result.exit_code == 0, result.stderr
    expected = gradfit.load(model).predict(_data(5)[["0", "1"]])
    assert_allclose(pd.read_csv(tmp_path / "p.csv")["2"].to_numpy(), expected, rtol=1e-14)
    assert invoke("evaluate", model, data, "--chunk-rows", CHUNK).exit_code == 0


def test_keep_carries_id_columns_through_as_written(
    invoke: Invoke, tmp_path: Path, regressor: tuple[Path, MLPRegressor]
) -> None:
    path, model = regressor
    frame = _data(6)
    ids = [f"{i:03d}" for i in range(N)]  # "007" stays "007"
    frame.insert(0, "id", ids)
    frame["site"] = ["north" if i % 3 else "" for i in range(N)]  # empty cells stay empty
    data = _write(frame, tmp_path / "d.csv")
    out = tmp_path / "p.csv"
    result = invoke(
        "predict", path, data, "--out", out, "--keep", "id", "--keep", "site",
        "--chunk-rows", CHUNK,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "id,site,2"
    assert lines[1].startswith("000,,") and lines[2].startswith("001,north,")
    got = pd.read_csv(out, dtype={"id": str})
    assert got["id"].tolist() == ids
    assert_array_equal(got["2"].to_numpy(), model.predict(frame[["0", "1"]]))
    pytest.importorskip("pyarrow")
    parquet = _write(frame.assign(n=np.arange(N) * 10), tmp_path / "d.parquet")
    result = invoke("predict", path, parquet, "--out", "-", "--keep", "n", "--chunk-rows", CHUNK)
    assert result.exit_code == 0, result.stderr
    assert [line.split(",")[0] for line in result.stdout.splitlines()[1:4]] == ["0", "10", "20"]


def test_keep_carries_missing_value_words_through_as_text(
    invoke: Invoke, tmp_path: Path, regressor: tuple[Path, MLPRegressor]
) -> None:
    """An id 'NaN' (or 'NA', 'null') was written as an empty cell: pandas reads it as
    missing. A kept input column is read as the model reads it (a NaN there is refused)."""
    path, model = regressor
    frame = _data(8)
    ids = ["NaN", "NA", "null", "", "None", "n/a"] + [f"r{i}" for i in range(6, N)]
    lines = ["id,0,1,2"] + [
        f"{i},{a!r},{b!r},{c!r}"
        for i, (a, b, c) in zip(ids, frame.to_numpy().tolist(), strict=True)
    ]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(lines) + "\n")
    result = invoke("predict", path, data, "--out", "-", "--keep", "id", "--keep", "0",
                    "--chunk-rows", CHUNK)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "id,0,2"
    assert [line.split(",")[0] for line in out[1:]] == ids
    assert [float(line.split(",")[1]) for line in out[1:]] == frame["0"].tolist()
    assert_array_equal([float(line.split(",")[2]) for line in out[1:]],
                       model.predict(frame[["0", "1"]]))  # fmt: skip
    id_, _, *rest = lines[3].split(",")
    lines[3] = ",".join([id_, "NaN", *rest])  # data row 3: its input '0' is missing
    data.write_text("\n".join(lines) + "\n")
    refused = invoke("predict", path, data, "--out", "-", "--keep", "id", "--keep", "0")
    assert refused.exit_code == Exit.BAD_DATA
    assert refused.stderr == (
        f"gradfit: error: {data}: 1 missing cell(s) (empty or NaN): column '0' 1 (the first "
        "at row 3 (line 4)); fill them, or leave those rows out of the file\n"
    )


@pytest.mark.parametrize(
    ("keep", "code", "fragments"),
    [
        (
            ["nope"],
            Exit.BAD_DATA,
            ["--keep column(s) 'nope' not found; the file has '0', '1', '2'"],
        ),
        (["0", "0"], Exit.USAGE, ["--keep '0' is given twice; name each column once"]),
        (["2"], Exit.USAGE, ["--keep '2': the predictions have a column of that name"]),
    ],
)
def test_a_bad_keep_column_is_one_line_and_writes_nothing(
    invoke: Invoke,
    tmp_path: Path,
    regressor: tuple[Path, MLPRegressor],
    keep: list[str],
    code: Exit,
    fragments: list[str],
) -> None:
    path, _ = regressor
    data = _write(_data(7), tmp_path / "d.csv")
    out = tmp_path / "p.csv"
    options = [word for column in keep for word in ("--keep", column)]
    result = invoke("predict", path, data, "--out", out, *options)
    assert result.exit_code == code
    assert_one_line_error(result.stderr, *fragments)
    assert not out.exists()


def test_bad_data_in_a_later_chunk_leaves_the_old_output_untouched(
    invoke: Invoke, tmp_path: Path, regressor: tuple[Path, MLPRegressor]
) -> None:
    path, _ = regressor
    frame = _data(8)
    data = _write(frame, tmp_path / "d.csv")
    text = data.read_text().splitlines()
    text[31] = text[31].replace(",", ",oops,", 1).rsplit(",", 1)[0]  # data row 31: 'oops'
    data.write_text("\n".join(text) + "\n")
    out = tmp_path / "p.csv"
    out.write_text("mine\n")
    result = invoke("predict", path, data, "--out", out, "--chunk-rows", CHUNK)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(result.stderr, "column '1', row 31 (line 32): 'oops' is not a number")
    assert out.read_text() == "mine\n"


def test_classifier_outputs_stream_the_same(invoke: Invoke, tmp_path: Path) -> None:
    frame = _data(9)
    frame["label"] = np.where(frame["2"] > 0, "up", "down")
    model = MLPClassifier((6,), max_iter=20, random_state=0).fit(frame[["0", "1"]], frame["label"])
    gradfit.save(model, tmp_path / "c.safetensors", target_names=["label"])
    data = _write(frame, tmp_path / "d.csv")
    texts = []
    for chunk in (CHUNK, "1000"):
        result = invoke("predict", tmp_path / "c.safetensors", data, "--out", "-",
                        "--chunk-rows", chunk, "--keep", "2")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        texts.append(result.stdout)
    # BLAS may round a product of 7 rows and one of 1000 differently in the last bit.
    got, whole = (pd.read_csv(pd.io.common.StringIO(text)) for text in texts)
    assert list(got.columns) == ["2", "label", "P(down)", "P(up)"]
    assert_array_equal(got[["2", "label"]], whole[["2", "label"]])
    assert_array_equal(got["label"], model.predict(frame[["0", "1"]]))
    for P in (got, whole):
        assert_allclose(P[["P(down)", "P(up)"]], model.predict_proba(frame[["0", "1"]]), rtol=1e-12)
    result = invoke("evaluate", tmp_path / "c.safetensors", data, "--chunk-rows", CHUNK)
    assert result.exit_code == 0, result.stderr
    P = model.predict_proba(frame[["0", "1"]])
    accuracy = accuracy_score(frame["label"], model.predict(frame[["0", "1"]]))
    assert f"accuracy           {accuracy:.4f}" in result.stdout
    assert f"log loss           {log_loss(frame['label'], P, labels=model.classes_):.4f}" in (
        result.stdout
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_evaluate_streams_and_equals_the_in_memory_scores(
    invoke: Invoke, tmp_path: Path, regressor: tuple[Path, MLPRegressor], fmt: str
) -> None:
    path, model = regressor
    frame = _data(10)
    data = _write(frame, tmp_path / f"d.{fmt}")
    result = invoke("evaluate", path, data, "--json", "--chunk-rows", CHUNK)
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)["2"]
    y, y_hat = frame["2"].to_numpy(), model.predict(frame[["0", "1"]])
    assert got["rows"] == N
    assert_allclose(got["r2"], r2_score(y, y_hat), rtol=1e-12)
    assert_allclose(got["rmse"], np.sqrt(np.mean((y - y_hat) ** 2)), rtol=1e-12)
    assert_allclose(got["mae"], mean_absolute_error(y, y_hat), rtol=1e-12)


def test_evaluate_streams_the_spread_scores(invoke: Invoke, tmp_path: Path) -> None:
    from gradfit.uncertainty import metrics

    frame = _data(11)
    model = MLPRegressor((6,), n_members=3, max_iter=20, random_state=0, early_stopping=False)
    model.fit(frame[["0", "1"]], frame["2"])
    gradfit.save(model, tmp_path / "e.safetensors", target_names=["2"])
    data = _write(frame, tmp_path / "d.npy")
    result = invoke("evaluate", tmp_path / "e.safetensors", data, "--json", "--chunk-rows", CHUNK)
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)["2"]
    mean, std = model.predict(frame[["0", "1"]], return_std=True)
    expected = metrics(frame["2"].to_numpy(), mean, std, level=0.9)
    for name, key in (("nll", "nll"), ("coverage_90", "coverage"), ("width_90", "width"),
                      ("miscalibration", "miscalibration")):  # fmt: skip
        assert_allclose(got[name], expected[key], rtol=1e-12, atol=1e-15)


def test_scores_summed_over_chunks_equal_those_of_all_rows_at_once() -> None:
    """Merged moments: any split into chunks gives scikit-learn's R², RMSE, MAE to 1e-12."""
    rng = np.random.default_rng(12)
    Y = 1e3 + rng.normal(size=(1001, 3))  # a large mean: a naive Σy² - nȳ² loses digits
    Y_hat = Y + rng.normal(0, 0.1, Y.shape)
    cuts = np.sort(rng.choice(np.arange(1, 1001), size=40, replace=False))
    sums = Scorer()
    for part_Y, part_hat in zip(np.split(Y, cuts), np.split(Y_hat, cuts), strict=True):
        sums.add(part_Y, part_hat)
    for j, got in enumerate(sums.scores(["a", "b", "c"])):
        y, y_hat = Y[:, j], Y_hat[:, j]
        want = [r2_score(y, y_hat), np.sqrt(np.mean((y - y_hat) ** 2)), np.mean(abs(y - y_hat))]
        assert got.rows == 1001
        assert_allclose([got.r2, got.rmse, got.mae], want, rtol=1e-12)


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_chunks_holds_one_chunk_and_numbers_the_rows_as_read_table(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _write(_data(13), tmp_path / f"d.{fmt}")
    reads = []
    load_npy = tabular.load_npy
    monkeypatch.setattr(tabular, "load_npy", lambda *a, **k: reads.append(k) or load_npy(*a, **k))
    tables = list(read_chunks(data, 7))
    assert [t.n_rows for t in tables] == [7] * 8 + [1]
    whole = read_table(data)
    pd.testing.assert_frame_equal(pd.concat([t.frame for t in tables]), whole.frame)
    if fmt == "npy":  # a fresh memory map per chunk, dropped at once
        assert reads[: 1 + len(tables)] == [{"mmap": True}] * (1 + len(tables))
    # By default a chunk holds CHUNK_CELLS cells, whatever the width: here 21 / 3 columns.
    monkeypatch.setattr(datafile, "CHUNK_CELLS", 21)
    assert [t.n_rows for t in read_chunks(data)] == [7] * 8 + [1]


def test_read_chunks_reports_a_ragged_row_by_its_line_after_the_chunks_before_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "d.csv"
    lines = ["# made by hand", "a,b"] + [f"{i},{i}" for i in range(20)] + ["1,2,3"]
    path.write_text("\n".join(lines) + "\n")
    chunks = read_chunks(path, 5)
    first = next(chunks)
    assert first.frame.index.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(DataError, match="line 23 has 3 fields but the header names 2 columns"):
        list(chunks)
    path.write_text("a,b\n")
    with pytest.raises(DataError, match="a header but no data rows; at least 1 data row"):
        list(read_chunks(path, 5, purpose="predict"))


def test_the_readme_session_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console block of the README's "Predicting on files of any size"."""
    from readme_session import assert_prints, console_session, run

    steps = console_session("## Predicting on files of any size")
    assert len(steps) == 5
    monkeypatch.chdir(tmp_path)
    for command, expected in steps:
        assert_prints(run(command), expected, command)


def test_classifier_sums_equal_scikit_learns_scores_of_all_rows() -> None:
    from sklearn.metrics import balanced_accuracy_score, confusion_matrix

    from gradfit.cli.running_scores import ClassifierSums

    rng = np.random.default_rng(14)
    classes = np.array(["a", "b", "c"])
    P = rng.dirichlet([1, 1, 1], size=500)
    y = classes[rng.integers(0, 3, 500)]
    predicted = classes[P.argmax(axis=1)]
    sums = ClassifierSums(classes)
    for part in np.array_split(np.arange(500), [7, 8, 100, 333]):
        sums.add(y[part], predicted[part], P[part])
    assert sums.n == 500
    assert_allclose(sums.correct / 500, accuracy_score(y, predicted), rtol=1e-12)
    assert_allclose(sums.log_loss / 500, log_loss(y, P, labels=classes), rtol=1e-12)
    assert_array_equal(sums.confusion, confusion_matrix(y, predicted, labels=classes))
    balanced = f"balanced accuracy  {balanced_accuracy_score(y, predicted):.4f}"
    assert balanced in sums.lines()
    # Multilabel rows: subset accuracy, and the log loss per label.
    Y = rng.integers(0, 2, (300, 4))
    Q = rng.uniform(0.01, 0.99, (300, 4))
    sums = ClassifierSums(np.arange(4))
    for part in np.array_split(np.arange(300), 5):
        sums.add(Y[part], (Q[part] > 0.5).astype(int), Q[part])
    assert_allclose(sums.correct / 300, accuracy_score(Y, (Q > 0.5).astype(int)), rtol=1e-12)
    assert_allclose(sums.log_loss / Y.size, log_loss(Y.ravel(), Q.ravel()), rtol=1e-12)


def test_intervals_stream_the_same(invoke: Invoke, tmp_path: Path) -> None:
    frame = _data(15)
    model = MLPRegressor((6,), n_members=3, max_iter=10, random_state=0, early_stopping=False)
    model.fit(frame[["0", "1"]], frame["2"])
    gradfit.save(model, tmp_path / "e.safetensors", target_names=["2"])
    data = _write(frame, tmp_path / "d.parquet")
    result = invoke("predict", tmp_path / "e.safetensors", data, "--out", "-",
                    "--interval", "0.8", "--chunk-rows", CHUNK)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    got = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert list(got.columns) == ["2", "2_lower", "2_upper"]
    lower, upper = model.predict_interval(frame[["0", "1"]], coverage=0.8)
    assert_allclose(got["2"], model.predict(frame[["0", "1"]]), rtol=1e-14)
    assert_allclose(got["2_lower"], lower, rtol=1e-13)
    assert_allclose(got["2_upper"], upper, rtol=1e-13)


def test_evaluate_names_the_files_row_of_a_bad_label_in_a_later_chunk(
    invoke: Invoke, tmp_path: Path
) -> None:
    frame = _data(16)
    frame["label"] = np.where(frame["2"] > 0, "up", "down")
    model = MLPClassifier((4,), max_iter=5, random_state=0).fit(frame[["0", "1"]], frame["label"])
    gradfit.save(model, tmp_path / "c.safetensors", target_names=["label"])
    frame.loc[[19, 20, 50], "label"] = None  # data rows 20, 21 (third chunk of 7), 51 (eighth)
    data = _write(frame, tmp_path / "d.csv")
    result = invoke("evaluate", tmp_path / "c.safetensors", data, "--chunk-rows", CHUNK)
    assert result.exit_code == Exit.BAD_DATA
    # The file's count (3), not the chunk's (2): every chunk is read to count them.
    assert result.stderr == (
        f"gradfit: error: {data}: 3 missing cell(s) (empty or NaN): column 'label' 3 (the "
        "first at row 20 (line 21)); fill them, or leave those rows out of the file\n"
    )


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_missing_inputs_are_counted_over_the_file_not_the_chunk(
    invoke: Invoke, tmp_path: Path, regressor: tuple[Path, MLPRegressor], command: str
) -> None:
    path, _ = regressor
    frame = _data(17)
    frame.loc[[3, 40], "0"] = np.nan  # chunks 1 and 6 of 7 rows
    frame.loc[[45], "1"] = np.nan
    data = _write(frame, tmp_path / "d.csv")
    out = ["--out", tmp_path / "p.csv"] if command == "predict" else []
    result = invoke(command, path, data, *out, "--chunk-rows", CHUNK)
    assert result.exit_code == Exit.BAD_DATA
    assert result.stderr == (
        f"gradfit: error: {data}: 3 missing cell(s) (empty or NaN): column '0' 2 (the first "
        "at row 4 (line 5)); column '1' 1 (the first at row 46 (line 47)); fill them, or "
        "leave those rows out of the file\n"
    )
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_keep_of_the_empty_name_copies_the_index_column_to_csv_writes(
    invoke: Invoke, tmp_path: Path, chunk_rows: int | None
) -> None:
    """DataFrame.to_csv() writes its index first, under no name; it is left out of the
    inputs, and --keep '' said "--keep column(s) '' not found; the file has 'x', 'y'",
    so the predictions could not be joined back on it."""
    x = np.linspace(-2, 2, 30)
    frame = pd.DataFrame({"x": x, "y": np.sin(x)}, index=np.arange(100, 130))
    data = tmp_path / "indexed.csv"
    frame.to_csv(data)
    model = tmp_path / "m.safetensors"
    fitted = invoke("fit", data, "--target", "y", "--out", model, "--epochs", 1, "--no-plots")
    assert fitted.exit_code == 0, fitted.stderr
    out = tmp_path / "p.csv"
    chunks = [] if chunk_rows is None else ["--chunk-rows", chunk_rows]
    result = invoke("predict", model, data, "--out", out, "--keep", "", *chunks)
    assert result.exit_code == 0, result.stderr
    written = pd.read_csv(out, index_col=0)
    assert list(written.columns) == ["y"]
    assert written.index.tolist() == list(range(100, 130))
