"""``fit`` on rows read from a file (a RowSource) is ``fit`` on the same arrays in memory.

The in-memory run is the special case: the statistics, the validation split, the order
of the rows and the steps are the same, only read in pieces. Sources of one chunk give
the in-memory order exactly; several chunks change only the statistics' rounding.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from gradfit import MLPClassifier, MLPRegressor
from gradfit.errors import DataError, DataTypeError
from gradfit.estimator._data import standardizer
from gradfit.io.arrays import ArrayRows, NpyRows, ParquetRows
from gradfit.io.statistics import (
    ColumnStats,
    merged,
    source_statistics,
    statistics_and_targets,
)
from gradfit.io.streaming import Alone

N_ROWS = 240


@pytest.fixture(scope="module")
def table() -> np.ndarray:
    """Three features of different scales and one noisy target."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, 3)) * [1.0, 50.0, 0.01] + [0.0, 300.0, -2.0]
    y = np.sin(X[:, 0]) + X[:, 1] / 100 + 0.1 * rng.normal(size=N_ROWS)
    return np.hstack([X, y[:, None]])


SETTINGS = {
    "hidden_layer_sizes": (8,),
    "activation": "tanh",
    "batch_size": 32,
    "learning_rate_init": 0.02,
    "max_iter": 200,
    "n_iter_no_change": 3,
    "tol": 1e-3,
    "random_state": 5,
    # One network on both sides: "auto" trains five on arrays that hold out rows, one
    # on a source (an ensemble trains in memory).
    "n_members": 1,
}


@pytest.mark.parametrize("chunks", [7, 1000])
def test_chunk_statistics_merged_equal_numpy_mean_and_std(table: np.ndarray, chunks: int) -> None:
    source = ArrayRows(table[:, :3], table[:, 3], chunk_rows=chunks)
    x, y = source_statistics(source, np.float64, Alone())
    assert x.n == y.n == N_ROWS
    assert_allclose(x.mean, table[:, :3].mean(axis=0), rtol=1e-12)
    assert_allclose(x.sd, table[:, :3].std(axis=0), rtol=1e-12)
    assert_allclose(y.sd, table[:, 3:].std(axis=0), rtol=1e-12)
    assert (x.low == table[:, :3].min(axis=0)).all() and (x.high == table[:, :3].max(axis=0)).all()
    if chunks > N_ROWS:  # one chunk: what NumPy computes, bit for bit
        assert (x.mean == table[:, :3].mean(axis=0)).all()
        assert (x.sd == table[:, :3].std(axis=0)).all()


def test_chan_merge_of_uneven_parts_is_the_variance_of_the_whole() -> None:
    rng = np.random.default_rng(1)
    A = rng.normal(loc=1e6, scale=3.0, size=(1001, 2))  # a large mean: naive sums would lose it
    parts = [A[:1], A[1:400], A[400:]]
    total = merged(ColumnStats.of(P) for P in parts)
    assert_allclose(total.sd, A.std(axis=0), rtol=1e-10)
    assert_allclose(total.mean, A.mean(axis=0), rtol=1e-14)


def test_a_constant_column_is_only_centred() -> None:
    A = np.array([[2.0, 1.0], [2.0, 3.0], [2.0, 5.0]])
    scaler = standardizer(merged([ColumnStats.of(A[:2]), ColumnStats.of(A[2:])]))
    assert_allclose(scaler.scale, [1.0, np.sqrt(8 / 3)])
    assert_allclose(scaler.center, [2.0, 3.0])


def _npy(tmp_path: Path, table: np.ndarray, chunk_rows: int) -> NpyRows:
    np.save(tmp_path / "d.npy", table)
    return NpyRows(tmp_path / "d.npy", target=["3"], chunk_rows=chunk_rows)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fit_on_a_file_equals_fit_on_the_arrays(
    tmp_path: Path, table: np.ndarray, backend: str
) -> None:
    if backend == "torch":
        pytest.importorskip("torch")
    source = _npy(tmp_path, table, chunk_rows=N_ROWS)  # one chunk: the in-memory order
    ours = MLPRegressor(**SETTINGS, backend=backend).fit(source)
    theirs = MLPRegressor(**SETTINGS, backend=backend).fit(table[:, :3], table[:, 3])
    assert theirs.stop_reason_ == "early_stopping" and theirs.n_iter_ < 100  # it did stop early
    assert ours.n_iter_ == theirs.n_iter_ and ours.best_epoch_ == theirs.best_epoch_
    assert (ours.validation_rows_ == theirs.validation_rows_).all()
    assert ours.validation_rows_.size == round(0.2 * N_ROWS)
    for name in ("center", "scale"):
        for which in ("x_scaler_", "y_scaler_"):
            a, b = getattr(getattr(ours, which), name), getattr(getattr(theirs, which), name)
            assert_allclose(a, b, rtol=1e-12)
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert_allclose(ours.validation_loss_curve_, theirs.validation_loss_curve_, rtol=1e-10)
    ours_params, theirs_params = ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_
    for p, q in zip(ours_params, theirs_params, strict=True):
        assert_allclose(p, q, rtol=1e-10, atol=1e-13)
    assert list(ours.feature_names_in_) == ["0", "1", "2"]
    rows = pd.DataFrame(table[:5, :3], columns=["0", "1", "2"])
    assert_allclose(ours.predict(rows), theirs.predict(rows.to_numpy()), rtol=1e-10)


def test_a_file_in_several_chunks_trains_on_the_chunked_order(
    tmp_path: Path, table: np.ndarray
) -> None:
    """Chunks of 50 rows: the statistics agree, the order differs, and training works."""
    source = _npy(tmp_path, table, chunk_rows=50)
    model = MLPRegressor(**SETTINGS).fit(source)
    reference = MLPRegressor(**SETTINGS).fit(table[:, :3], table[:, 3])
    assert_allclose(model.x_scaler_.scale, reference.x_scaler_.scale, rtol=1e-12)
    assert (model.validation_rows_ == reference.validation_rows_).all()
    X = pd.DataFrame(table[:, :3], columns=["0", "1", "2"])
    assert model.score(X, table[:, 3]) > 0.8


def test_parquet_with_named_columns(tmp_path: Path, table: np.ndarray) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    names = ["a", "b", "c", "y"]
    pq.write_table(pa.table(dict(zip(names, table.T, strict=True))), tmp_path / "d.parquet")
    model = MLPRegressor(**SETTINGS).fit(ParquetRows(tmp_path / "d.parquet", target=["y"]))
    reference = MLPRegressor(**SETTINGS).fit(table[:, :3], table[:, 3])
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    assert_allclose(model.coefs_[0], reference.coefs_[0], rtol=1e-10, atol=1e-13)


def test_a_source_is_refused_where_it_cannot_train(tmp_path: Path, table: np.ndarray) -> None:
    from gradfit import MLPClassifier

    source = _npy(tmp_path, table, chunk_rows=N_ROWS)
    with pytest.raises(ValueError, match="holds the targets"):
        MLPRegressor().fit(source, table[:, 3])
    with pytest.raises(ValueError, match="holds the targets"):
        MLPClassifier().partial_fit(source, None, classes=[0, 1])
    with pytest.raises(ValueError, match="ensemble"):
        MLPRegressor(n_members=2, max_iter=2).fit(source)
    # n_members="auto" is one network on a source, five on the same rows in memory.
    auto = {**SETTINGS, "n_members": "auto", "max_iter": 2, "early_stopping": True}
    assert type(MLPRegressor(**auto).fit(source).net_).__name__ == "MLP"
    assert MLPRegressor(**auto).fit(table[:, :3], table[:, 3]).net_.n_members == 5
    with pytest.raises(ValueError, match="mse, sse or a cross-entropy, not GaussianNLL"):
        MLPRegressor(loss="gaussian_nll", max_iter=2).fit(source)
    # The target column holds numbers that are not labels.
    with pytest.raises(DataError, match="Unknown label type: continuous"):
        MLPClassifier().fit(source)


def labelled(table: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.hstack([table[:, :3], labels[:, None]])


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        ([-3, 10, 4], [-3, 4, 10]),  # three classes, sorted as LabelEncoder sorts them
        ([7, 0], [0, 7]),  # two: one sigmoid output
    ],
)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_classifier_on_a_file_equals_the_classifier_on_the_arrays(
    tmp_path: Path, table: np.ndarray, labels: list[int], classes: list[int], backend: str
) -> None:
    from gradfit import MLPClassifier

    if backend == "torch":
        pytest.importorskip("torch")
    y = np.asarray(labels)[np.digitize(table[:, 3], np.quantile(table[:, 3], [0.3, 0.8]))
                           .clip(0, len(labels) - 1)]  # fmt: skip
    A = labelled(table, y.astype(np.float64))
    settings = {**SETTINGS, "backend": backend, "class_weight": "balanced",
                "early_stopping": True}  # fmt: skip
    ours = MLPClassifier(**settings).fit(_npy(tmp_path, A, chunk_rows=N_ROWS))
    theirs = MLPClassifier(**settings).fit(table[:, :3], y)
    assert ours.classes_.tolist() == theirs.classes_.tolist() == classes
    assert ours.classes_.dtype == np.int64 and ours.n_outputs_ == theirs.n_outputs_
    assert theirs.stop_reason_ == "early_stopping"
    assert ours.n_iter_ == theirs.n_iter_ and ours.best_epoch_ == theirs.best_epoch_
    # The split is stratified by the labels found in the pass, as in memory.
    assert (ours.validation_rows_ == theirs.validation_rows_).all()
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert_allclose(ours.validation_loss_curve_, theirs.validation_loss_curve_, rtol=1e-10)
    assert ours.accuracy_curve_ == theirs.accuracy_curve_
    assert ours.validation_accuracy_curve_ == theirs.validation_accuracy_curve_
    for p, q in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                    strict=True):  # fmt: skip
        assert_allclose(p, q, rtol=1e-10, atol=1e-13)
    rows = pd.DataFrame(table[:9, :3], columns=["0", "1", "2"])
    assert (ours.predict(rows) == theirs.predict(rows.to_numpy())).all()
    assert_allclose(ours.predict_proba(rows), theirs.predict_proba(rows.to_numpy()), rtol=1e-10)
    assert ours.score(rows, y[:9]) > 0.5


def test_a_multilabel_file_and_a_float32_classifier(tmp_path: Path, table: np.ndarray) -> None:
    from gradfit import MLPClassifier

    Y = np.column_stack([table[:, 3] > np.median(table[:, 3]), table[:, 0] > 0]).astype(float)
    np.save(tmp_path / "m.npy", np.hstack([table[:, :3], Y]))
    source = NpyRows(tmp_path / "m.npy", target=["3", "4"], chunk_rows=N_ROWS)
    ours = MLPClassifier(**SETTINGS).fit(source)
    theirs = MLPClassifier(**SETTINGS).fit(table[:, :3], Y.astype(int))
    assert ours.classes_.tolist() == [0, 1] and ours.n_outputs_ == 2
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    single = MLPClassifier(**SETTINGS, dtype="float32").fit(
        _npy(tmp_path, labelled(table, Y[:, 0]), chunk_rows=50)
    )
    assert single.net_.dtype == np.float32 and single.accuracy_curve_[-1] > 0.8


@pytest.mark.parametrize("world", [2, 3])
def test_labels_gathered_from_the_chunks_are_every_rows_for_any_number_of_processes(
    table: np.ndarray, world: int
) -> None:
    y = np.arange(N_ROWS) % 5 * 10.0
    source = ArrayRows(table[:, :3], y, chunk_rows=17)
    shared: dict[str, Any] = {"parts": {}, "barrier": threading.Barrier(world)}
    results: dict[int, Any] = {}

    def rank(r: int) -> None:
        group = ThreadGroup(r, world, shared)
        results[r] = statistics_and_targets(source, np.float64, group)

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(world)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alone = source_statistics(source, np.float64, Alone())[0]
    for r in range(world):
        x, Y = results[r]
        np.testing.assert_array_equal(Y[:, 0], y)
        np.testing.assert_array_equal(x.mean, alone.mean)


class ThreadGroup:
    """``world`` threads standing in for processes: ``all_sum`` adds their arrays."""

    def __init__(self, rank: int, world: int, shared: dict[str, Any]) -> None:
        self.rank, self.world, self.shared = rank, world, shared

    def all_sum(self, A: np.ndarray) -> np.ndarray:
        self.shared["parts"][self.rank] = A
        self.shared["barrier"].wait()
        total = sum(self.shared["parts"][r] for r in range(self.world))
        self.shared["barrier"].wait()
        return np.asarray(total)

    def close(self, *, finished: bool) -> None:
        pass


@pytest.mark.parametrize("world", [2, 3])
def test_chunk_statistics_are_the_same_bits_for_any_number_of_processes(
    table: np.ndarray, world: int
) -> None:
    source = ArrayRows(table[:, :3], table[:, 3], chunk_rows=17)
    alone = source_statistics(source, np.float64, Alone())
    shared: dict[str, Any] = {"parts": {}, "barrier": threading.Barrier(world)}
    results: dict[int, Any] = {}

    def rank(r: int) -> None:
        results[r] = source_statistics(source, np.float64, ThreadGroup(r, world, shared))

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(world)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in range(world):
        for ours, theirs in zip(results[r], alone, strict=True):
            assert ours.n == theirs.n
            for name in ("mean", "m2", "low", "high"):
                np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))


@pytest.mark.parametrize("chunk_rows", [7, 8, 64, 1000], ids=lambda c: f"chunks of {c}")
def test_rows_of_a_source_kept_as_bits_read_the_rows_they_stand_for(chunk_rows: int) -> None:
    # RowsOf keeps one bit per parent row; its reads, in any order, by slice or by index,
    # and its chunks are those of the row numbers it stands for.
    from gradfit.estimator._source import RowsOf

    rng = np.random.default_rng(11)
    X = np.arange(300, dtype=np.float64)[:, None]
    parent = ArrayRows(X, -X, chunk_rows=chunk_rows)
    rows = np.sort(rng.choice(300, size=90, replace=False))
    rows = rows[(rows < 40) | (rows > 70)]  # a run of the parent's chunks with no row
    subset = RowsOf(parent, rows)
    assert subset.n_rows == rows.size
    np.testing.assert_array_equal(subset.bounds, np.unique(np.searchsorted(rows, parent.bounds)))
    for at in (rng.permutation(rows.size), np.array([rows.size - 1, 0, 5, 5]), slice(3, 50)):
        got_X, got_Y = subset.take(at, np.float64)
        np.testing.assert_array_equal(got_X[:, 0], rows[at])
        np.testing.assert_array_equal(got_Y[:, 0], -rows[at])
    assert subset.take(slice(0, rows.size), np.float32)[0].dtype == np.float32


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predict_on_a_source_says_it_takes_arrays() -> None:
    """It said "float() argument must be a string or a real number, not 'ArrayRows'"."""
    X = np.random.default_rng(0).normal(size=(40, 2))
    source = ArrayRows(X, X[:, 0], chunk_rows=16)
    expected = (
        "X is ArrayRows, rows read from a file, which fit takes but predict does not: give "
        "the features as an array or DataFrame (a file larger than memory a chunk at a time, "
        "as gradfit predict reads it)"
    )
    regressor = MLPRegressor((3,), max_iter=2, random_state=0).fit(source)
    classifier = MLPClassifier((3,), max_iter=2, random_state=0).fit(X, X[:, 0] > 0)
    for predict in (regressor.predict, classifier.predict, classifier.predict_proba):
        with pytest.raises(DataTypeError) as info:
            predict(source)
        assert str(info.value) == expected
