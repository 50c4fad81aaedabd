"""Rows of a data set read on demand: from memory, a ``.npy`` file, or a Parquet file.

A :class:`RowSource` hands out the rows a training step asks for, so that data
larger than memory can be trained on: memory is bounded by the rows read at once
(a chunk), not by the number of rows in the file.

- :class:`NpyRows` memory-maps a 2-D ``.npy`` file for each read and drops the map
  afterwards: the pages a read touched stop counting towards the process's memory.
  Its columns are named by their index: ``"0"``, ``"1"``, …
- :class:`ParquetRows` reads one row group at a time (pyarrow), keeping the last two
  row groups read. Its chunks are the file's row groups.
- :class:`ArrayRows` wraps arrays already in memory.

Each source has ``bounds``: the chunk boundaries ``[0, …, n_rows]`` along which a
shuffled order is drawn (see :mod:`gradfit.engine.batches`). Every read is checked:
a NaN or infinity raises :class:`~gradfit.errors.DataError` naming the row.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from gradfit.engine.types import Array
from gradfit.engine.validation import check_training_data
from gradfit.errors import DataError, require
from gradfit.io.columns import feature_target_columns
from gradfit.io.datafile import PARQUET_SUFFIXES, load_npy, npy_columns, regular_file

Rows = slice | Array
"""Rows to read: a slice, or an array of row indices (in the order wanted)."""

CHUNK_ROWS = 65536
"""Default rows per chunk of a ``.npy`` file or an in-memory array."""


class RowSource(Protocol):
    """Rows of features and targets, read on demand."""

    n_rows: int
    feature_names: list[str]
    target_names: list[str]
    bounds: Array
    """Chunk boundaries ``[0, …, n_rows]``: shuffling keeps each chunk's rows together."""

    def take(self, rows: Rows, dtype: Any) -> tuple[Array, Array]:
        """``X: (len(rows), n_features)`` and ``Y: (len(rows), n_targets)`` of ``dtype``."""
        ...


def chunk_bounds(n_rows: int, chunk_rows: int) -> Array:
    """``[0, chunk_rows, 2 chunk_rows, …, n_rows]``."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows}")
    return np.append(np.arange(0, n_rows, chunk_rows), n_rows)


def _split(
    block: Array, features: Sequence[int], targets: Sequence[int], dtype: Any
) -> tuple[Array, Array]:
    return (
        np.ascontiguousarray(block[:, features], dtype=dtype),
        np.ascontiguousarray(block[:, targets], dtype=dtype),
    )


def _check_finite(where: str, rows: Rows, *arrays: Array) -> None:
    for A in arrays:
        bad = ~np.isfinite(A)
        if bad.any():
            i = int(np.nonzero(bad.any(axis=1))[0][0])
            row = rows.start + i if isinstance(rows, slice) else int(rows[i])
            raise DataError(
                f"{where}: row {row + 1} holds NaN or an infinite value "
                f"({int(bad.sum())} such cell(s) in the rows read); drop or fill them first"
            )


class ArrayRows:
    """Rows of ``X: (n_rows, n_features)`` and ``Y: (n_rows, n_targets)`` held in memory."""

    def __init__(
        self, X: Array, Y: Array, *, dtype: Any = np.float64, chunk_rows: int = CHUNK_ROWS
    ) -> None:
        self.X, self.Y = check_training_data(X, Y, dtype=dtype)
        self.n_rows = self.X.shape[0]
        self.feature_names = [f"x{j}" for j in range(self.X.shape[1])]
        self.target_names = [f"y{j}" for j in range(self.Y.shape[1])]
        self.bounds = chunk_bounds(self.n_rows, chunk_rows)

    def take(self, rows: Rows, dtype: Any) -> tuple[Array, Array]:
        return self.X[rows].astype(dtype, copy=False), self.Y[rows].astype(dtype, copy=False)


class NpyRows:
    """Rows of a 2-D numeric ``.npy`` file, memory-mapped read by read.

    Parameters
    ----------
    path : path to a ``.npy`` file holding a ``(n_rows, n_columns)`` array
        In C order (row by row) or Fortran order (column by column, as R and
        ``np.asfortranarray`` write it): a read of rows then touches each column's
        pages, slower on a wide file, the same rows and numbers.
    target : sequence of str
        Target column(s), named by index (``"0"``, ``"1"``, …; ``"-1"`` is the last).
    features : sequence of str, optional
        Feature columns; by default every column that is not a target.
    chunk_rows : int
        Rows per chunk of the shuffled order.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        target: Sequence[str],
        features: Sequence[str] | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.path = Path(path)
        A = self._open()
        if A.ndim != 2 or A.dtype.kind not in "biuf" or A.shape[0] == 0:
            raise DataError(
                f"{self.path}: needs a non-empty 2-D numeric array (rows × columns); "
                f"found shape {A.shape}, dtype {A.dtype}"
            )
        self.n_rows, n_columns = A.shape
        del A
        names = npy_columns(n_columns)

        def by_index(given: Sequence[str], role: str) -> list[str]:
            """The column names ``given`` stands for: ``"-1"`` is the last."""
            named = []
            for c in given:
                j = int(c) if c.lstrip("-").isdigit() else None
                named.append(names[j] if j is not None and -n_columns <= j < n_columns else c)
            twice = [n for n in dict.fromkeys(named) if named.count(n) > 1]
            if twice:
                aliases = [repr(c) for c, n in zip(given, named, strict=True) if n == twice[0]]
                raise DataError(
                    f"{self.path}: {' and '.join(aliases)} name the same {role} column "
                    f"{twice[0]!r} (a negative index counts from the last of {n_columns} "
                    "columns); name each column once"
                )
            return named

        self._features, self._targets = feature_target_columns(
            names,
            by_index(target, "target"),
            None if features is None else by_index(features, "feature"),
            str(self.path),
        )
        self.feature_names = [names[j] for j in self._features]
        self.target_names = [names[j] for j in self._targets]
        self.bounds = chunk_bounds(self.n_rows, chunk_rows)

    def _open(self) -> np.memmap[Any, Any]:
        return load_npy(regular_file(self.path), mmap=True)

    def take(self, rows: Rows, dtype: Any) -> tuple[Array, Array]:
        # A fresh map per read: once it is dropped, the pages it touched leave this
        # process's resident memory (they stay in the page cache, shared and reclaimable).
        A = self._open()
        block = np.array(A[rows])
        del A
        X, Y = _split(block, self._features, self._targets, dtype)
        _check_finite(str(self.path), rows, X, Y)
        return X, Y


class ParquetRows:
    """Rows of a Parquet file, read one row group at a time.

    Parameters
    ----------
    path : path to a Parquet file
    target : sequence of str
        Target column name(s).
    features : sequence of str, optional
        Feature columns; by default every column that is not a target.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        target: Sequence[str],
        features: Sequence[str] | None = None,
    ) -> None:
        require("pyarrow", "parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = regular_file(path)
        try:
            self._file = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{self.path}: not a readable Parquet file: {exc}") from None
        meta = self._file.metadata
        names = list(self._file.schema_arrow.names)
        features_idx, targets_idx = feature_target_columns(names, target, features, str(self.path))
        self.feature_names = [names[j] for j in features_idx]
        self.target_names = [names[j] for j in targets_idx]
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        self.bounds = np.cumsum([0, *sizes])
        self.n_rows = int(self.bounds[-1])
        if self.n_rows == 0:
            raise DataError(f"{self.path}: the file has no data rows")
        self._cache: OrderedDict[int, Array] = OrderedDict()

    def _group(self, g: int) -> Array:
        """Row group ``g`` as a float64 ``(rows, features + targets)`` block."""
        if g in self._cache:
            self._cache.move_to_end(g)
            return self._cache[g]
        columns = [*self.feature_names, *self.target_names]
        table = self._file.read_row_group(g, columns=columns)
        block = np.empty((table.num_rows, len(columns)), dtype=np.float64)
        for j, name in enumerate(columns):
            try:
                block[:, j] = table.column(name).to_numpy(zero_copy_only=False)
            except (TypeError, ValueError):
                raise DataError(
                    f"{self.path}: column {name!r} is not numeric "
                    f"(type {table.schema.field(name).type}); rows read in chunks are "
                    "numbers: write it as numbers (class labels as integers 0, 1, …)"
                ) from None
        self._cache[g] = block
        if len(self._cache) > 2:
            self._cache.popitem(last=False)
        return block

    def take(self, rows: Rows, dtype: Any) -> tuple[Array, Array]:
        index = np.arange(self.n_rows)[rows] if isinstance(rows, slice) else np.asarray(rows)
        groups = np.searchsorted(self.bounds, index, side="right") - 1
        block = np.empty((index.size, len(self.feature_names) + len(self.target_names)))
        for g in np.unique(groups):
            here = groups == g
            block[here] = self._group(int(g))[index[here] - self.bounds[g]]
        n_features = len(self.feature_names)
        X, Y = _split(block, range(n_features), range(n_features, block.shape[1]), dtype)
        _check_finite(str(self.path), index, X, Y)
        return X, Y


def open_rows(
    path: str | os.PathLike[str],
    *,
    target: Sequence[str],
    features: Sequence[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> NpyRows | ParquetRows:
    """A :class:`NpyRows` for ``.npy``, a :class:`ParquetRows` for ``.parquet``/``.pq``."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        return NpyRows(path, target=target, features=features, chunk_rows=chunk_rows)
    if suffix in PARQUET_SUFFIXES:
        return ParquetRows(path, target=target, features=features)
    raise DataError(
        f"{path}: data larger than memory is read from .npy or Parquet files, "
        f"not {suffix or '(no suffix)'!r}"
    )
