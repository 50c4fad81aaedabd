"""Row sources (.npy, Parquet, memory) and the chunked order: every row read once, by one rank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gradfit.engine.batches import epoch_batches, pieces, share
from gradfit.errors import DataError
from gradfit.io.arrays import ArrayRows, NpyRows, ParquetRows, RowSource, open_rows

N_ROWS = 53  # prime: no batch size, chunk or world size divides it


def table(n_rows: int = N_ROWS) -> np.ndarray:
    """Column 0 is each row's own index, so a read says which rows it returned."""
    rng = np.random.default_rng(0)
    return np.hstack([np.arange(n_rows)[:, None], rng.normal(size=(n_rows, 2))])


def npy(tmp_path: Path, A: np.ndarray, **kwargs: object) -> NpyRows:
    np.save(tmp_path / "data.npy", A)
    return NpyRows(tmp_path / "data.npy", target=["-1"], chunk_rows=7, **kwargs)


def parquet(tmp_path: Path, A: np.ndarray) -> ParquetRows:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    columns = {"i": A[:, 0], "x": A[:, 1], "y": A[:, 2]}
    pq.write_table(pa.table(columns), tmp_path / "data.parquet", row_group_size=9)
    return ParquetRows(tmp_path / "data.parquet", target=["y"])


@pytest.fixture(params=["npy", "npy-fortran", "parquet"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> RowSource:
    """A Fortran-order .npy (stored column by column) reads the same rows: it was refused
    under --distributed alone, while fit, predict and evaluate without it read it."""
    if request.param == "parquet":
        return parquet(tmp_path, table())
    return npy(tmp_path, table() if request.param == "npy" else np.asfortranarray(table()))


@pytest.mark.parametrize("world", [1, 2, 3])
@pytest.mark.parametrize("batch_size", [10, N_ROWS])
@pytest.mark.parametrize("shuffle", [True, False])
def test_each_rank_reads_only_its_slice_and_together_every_row_once(
    source: RowSource, world: int, batch_size: int, shuffle: bool
) -> None:
    assert len(source.bounds) > 2  # several chunks (row groups of 9, chunks of 7)
    A = table()
    read = []
    rng = np.random.default_rng(1)
    for rows in epoch_batches(source.bounds, batch_size, rng, shuffle=shuffle):
        batch = np.arange(N_ROWS) if rows is None else np.arange(N_ROWS)[rows]
        m = len(batch)
        for rank in range(world):
            for part in pieces(share(rows, N_ROWS, rank, world), 4):
                X, Y = source.take(part, np.float64)
                got = X[:, 0].astype(int)
                # Exactly the rank's contiguous slice of the global batch, in order.
                mine = batch[rank * m // world : (rank + 1) * m // world]
                assert set(got) <= set(mine)
                assert_array_equal(X, A[got, :2])
                assert_array_equal(Y, A[got, 2:])
                read.extend(got)
    assert sorted(read) == list(range(N_ROWS))
    if shuffle and batch_size < N_ROWS:  # a full batch is all rows, in no order
        assert read != sorted(read)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
def test_a_npy_read_drops_its_memory_map(tmp_path: Path) -> None:
    rows = npy(tmp_path, table())
    X, _ = rows.take(np.array([3, 50, 1]), np.float32)
    assert X.dtype == np.float32 and list(X[:, 0]) == [3, 50, 1]
    assert str(tmp_path / "data.npy") not in Path("/proc/self/maps").read_text()


def test_npy_columns_are_named_by_index(tmp_path: Path) -> None:
    rows = npy(tmp_path, table(), features=["1"])
    assert rows.feature_names == ["1"] and rows.target_names == ["2"]
    X, Y = rows.take(slice(2, 4), np.float64)
    assert_array_equal(X, table()[2:4, 1:2])
    assert_array_equal(Y, table()[2:4, 2:])


def test_a_nan_is_refused_naming_its_row(tmp_path: Path, source: RowSource) -> None:
    A = table()
    A[40, 1] = np.nan
    bad = npy(tmp_path, A) if isinstance(source, NpyRows) else parquet(tmp_path, A)
    bad.take(slice(0, 40), np.float64)  # the rows before it are fine
    with pytest.raises(DataError, match="row 41 holds NaN"):
        bad.take(np.array([3, 40, 5]), np.float64)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(5), "2-D numeric"),
        (np.zeros((0, 3)), "2-D numeric"),
        (np.array([["a", "b"]]), "2-D numeric"),
    ],
)
def test_unusable_npy_files_are_refused(tmp_path: Path, array: np.ndarray, message: str) -> None:
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(DataError, match=message):
        open_rows(tmp_path / "bad.npy", target=["0"])


def test_bad_paths_and_columns_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        open_rows(tmp_path / "missing.npy", target=["0"])
    (tmp_path / "data.csv").write_text("x,y\n1,2\n")
    with pytest.raises(DataError, match=r"\.npy or Parquet"):
        open_rows(tmp_path / "data.csv", target=["y"])
    (tmp_path / "junk.npy").write_bytes(b"not an array")
    with pytest.raises(DataError, match=r"not a \.npy file"):
        open_rows(tmp_path / "junk.npy", target=["0"])
    np.save(tmp_path / "data.npy", table())
    with pytest.raises(DataError, match="'7' not found"):
        open_rows(tmp_path / "data.npy", target=["7"])
    with pytest.raises(DataError, match="are both target and feature; a column is an input"):
        open_rows(tmp_path / "data.npy", target=["2"], features=["1", "2"])


@pytest.mark.parametrize(
    ("target", "features", "message"),
    [
        (["2", "-1"], None, "'2' and '-1' name the same target column '2'"),
        (["2"], ["0", "-3"], "'0' and '-3' name the same feature column '0'"),
    ],
)
def test_a_column_named_twice_by_a_negative_index_is_refused(
    tmp_path: Path, target: list[str], features: list[str] | None, message: str
) -> None:
    """``--target 2 --target -1`` trained a model of two outputs, both column 2."""
    np.save(tmp_path / "data.npy", table())
    with pytest.raises(DataError) as raised:
        open_rows(tmp_path / "data.npy", target=target, features=features)
    assert str(raised.value) == (
        f"{tmp_path / 'data.npy'}: {message} (a negative index counts from the last of 3 "
        "columns); name each column once"
    )


def test_a_non_numeric_parquet_column_is_named(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"x": ["a", "b"], "y": [1.0, 2.0]}), tmp_path / "t.parquet")
    rows = open_rows(tmp_path / "t.parquet", target=["y"])
    with pytest.raises(DataError, match="column 'x' is not numeric"):
        rows.take(slice(0, 2), np.float64)


def test_in_memory_rows_are_validated() -> None:
    with pytest.raises(DataError, match="NaN"):
        ArrayRows(np.array([[1.0], [np.nan]]), np.zeros(2))
    rows = ArrayRows(table()[:, :2], table()[:, 2], dtype=np.float32)
    X, Y = rows.take(np.array([5]), np.float64)
    assert X.dtype == Y.dtype == np.float64 and Y.shape == (1, 1)
