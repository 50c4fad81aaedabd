"""Tables on disk: CSV, Parquet (with pyarrow) or ``.npy`` read into a
:class:`~gradfit.io.table.Table` (which turns them into validated float arrays), and CSV
written.

:func:`read_table` is the one reader of data files for the command line (and for
anything else that reads a user's file as ``gradfit fit`` does); :func:`read_chunks`
reads the same files a chunk of rows at a time, with the same checks, so that
``predict`` and ``evaluate`` take a file of any size. A ``.npy`` file's columns are
named by their index, as everywhere (:func:`~gradfit.io.datafile.npy_columns`). Every
problem is a :class:`~gradfit.errors.DataError` whose message names the file.

What a CSV may hold, as real files come: a UTF-8 byte-order mark (dropped), lines
beginning with ``#`` before the header (skipped), blank lines (skipped), a leading
unnamed index column as ``DataFrame.to_csv()`` writes it (left out, with a note in
:attr:`~gradfit.io.table.Table.notes`), text columns with few distinct values (one-hot features, see
:mod:`gradfit.io.categories`). Refused: a row with more fields than the header,
duplicate or empty column names.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError, require
from gradfit.io.atomic import atomic_write
from gradfit.io.csvfile import csv_frames
from gradfit.io.datafile import (
    PARQUET_SUFFIXES,
    described,
    head_of,
    load_npy,
    npy_columns,
    regular_file,
    rows_per_chunk,
)
from gradfit.io.table import Table

if TYPE_CHECKING:
    import pandas as pd


def read_table(
    path: str | os.PathLike[str], *, min_rows: int = 1, purpose: str = "read it"
) -> Table:
    """Read a data file: Parquet or ``.npy`` by its suffix, CSV with a header row otherwise.

    Raises :class:`DataError` when the file is missing, not a regular file, empty,
    not a table, has duplicate or empty column names or ragged rows, or has fewer
    than ``min_rows`` data rows (the message says they are needed to ``purpose``).
    """
    path = regular_file(path)
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        table = Table(path, _read_parquet(path))
    elif suffix == ".npy":
        table = Table(path, _npy_frame(path, load_npy(path), 0))
    else:
        frame, notes = next(csv_frames(path))
        table = Table(path, frame, notes)
    _check_rows(table.n_rows, min_rows, purpose, path)
    return table


def read_chunks(
    path: str | os.PathLike[str],
    chunk_rows: int | None = None,
    *,
    text: Sequence[str] = (),
    verbatim: Sequence[str] = (),
    purpose: str = "read it",
) -> Iterator[Table]:
    """The rows of a data file as tables of at most ``chunk_rows`` rows, read one by one
    (by default as many rows as make :data:`~gradfit.io.datafile.CHUNK_CELLS` cells).

    Each table's frame is numbered by the file's data rows, so that messages name the
    row (and a CSV's line) as :func:`read_table` does, with the same checks; the first
    carries the reader's notes. The columns ``text`` of a CSV are read as text, as
    written; those of ``verbatim`` too, with no cell taken for missing (an id ``NaN``
    stays ``NaN``; see :func:`~gradfit.io.csvfile.csv_frames`). Memory is bounded by a
    chunk: a ``.npy`` file is memory-mapped afresh for each chunk, a Parquet file read in
    batches of ``chunk_rows`` rows.

    Raises :class:`DataError` as :func:`read_table` does (with ``min_rows=1``), when
    the chunk that holds the problem is read.
    """
    if chunk_rows is not None and chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows}")
    path = regular_file(path)
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        frames = _parquet_frames(path, chunk_rows)
    elif suffix == ".npy":
        frames = _npy_frames(path, chunk_rows)
    else:
        frames = csv_frames(path, chunked=True, chunk_rows=chunk_rows, text=text, verbatim=verbatim)
    n_rows = 0
    for frame, notes in frames:
        if len(frame):
            yield Table(path, frame, () if n_rows else notes)  # the file's, said once
        n_rows += len(frame)
    _check_rows(n_rows, 1, purpose, path)


def _check_rows(n_rows: int, min_rows: int, purpose: str, path: Path) -> None:
    if n_rows < min_rows:
        have = "a header but no data rows" if n_rows == 0 else f"{n_rows} data row(s)"
        raise DataError(
            f"{path}: the file has {have}; at least {min_rows} data row(s) are needed to {purpose}"
        )


def _read_parquet(path: Path) -> pd.DataFrame:
    require("pyarrow", "parquet")
    import pandas as pd
    import pyarrow as pa

    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except (pa.ArrowException, OSError) as exc:
        raise _not_parquet(path, exc) from None
    # Rows are numbered by position, whatever index pandas restored.
    return frame.reset_index(drop=True)


def _parquet_frames(
    path: Path, chunk_rows: int | None
) -> Iterator[tuple[pd.DataFrame, tuple[str, ...]]]:
    """The Parquet file ``chunk_rows`` rows at a time, numbered by position."""
    require("pyarrow", "parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    start = 0
    try:
        parquet = pq.ParquetFile(path)
        rows = rows_per_chunk(len(parquet.schema_arrow.names), chunk_rows)
        for batch in parquet.iter_batches(batch_size=rows):
            frame = pa.Table.from_batches([batch]).to_pandas()
            frame.index = range(start, start + len(frame))
            start += len(frame)
            yield frame, ()
    except (pa.ArrowException, OSError) as exc:
        raise _not_parquet(path, exc) from None


def _not_parquet(path: Path, exc: Exception) -> DataError:
    """The error for a file named as Parquet that pyarrow could not read, saying what it
    is where its first bytes tell (a CSV renamed .parquet, say)."""
    said = " ".join(str(exc).split()).rstrip(".")
    return DataError(
        f"{path}: not a readable Parquet file: {said}{described(head_of(path), own=b'PAR1')}"
    )


def _npy_frames(
    path: Path, chunk_rows: int | None
) -> Iterator[tuple[pd.DataFrame, tuple[str, ...]]]:
    """The ``.npy`` file ``chunk_rows`` rows at a time, each read through a fresh
    memory map that is dropped at once (so the pages it touched leave this process)."""
    A = load_npy(path, mmap=True)
    _check_npy(path, A)
    n_rows, rows = A.shape[0], rows_per_chunk(A.shape[1], chunk_rows)
    del A
    for start in range(0, n_rows, rows):
        A = load_npy(path, mmap=True)
        block = np.array(A[start : start + rows])
        del A
        yield _npy_frame(path, block, start), ()


def _check_npy(path: Path, A: Any) -> None:
    """Refuse an array that is not rows × columns of real numbers, saying how to save one."""
    if A.dtype.names is not None:
        fix = (
            "a record array: save its fields as columns "
            "(numpy.lib.recfunctions.structured_to_unstructured(A)), or as CSV or Parquet"
        )
    elif A.ndim == 0:
        fix = "a single value is no table: save rows × columns"
    elif A.ndim == 1:
        fix = "a 1-D array of n values is one column: save A.reshape(-1, 1)"
    elif A.ndim > 2:
        fix = "save it as one row per sample, A.reshape(len(A), -1)"
    elif A.dtype.kind == "c":
        fix = "gradfit works on real numbers: save numpy.real(A) or numpy.abs(A)"
    elif A.dtype.kind not in "biuf":
        fix = "save the numbers as floats (A.astype(float)), or a table with text as CSV or Parquet"
    else:
        return
    raise DataError(
        f"{path}: needs a 2-D numeric array (rows × columns); found shape {A.shape}, "
        f"dtype {A.dtype}; {fix}"
    )


def _npy_frame(path: Path, A: Array, start: int) -> pd.DataFrame:
    """Rows ``start, …`` of a 2-D numeric ``.npy`` array, its columns named by index."""
    import pandas as pd

    _check_npy(path, A)
    return pd.DataFrame(A, columns=npy_columns(A.shape[1]), index=range(start, start + len(A)))


Cell = float | int | str | None


def write_csv(
    path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Iterable[Cell]]
) -> None:
    """Write ``header`` and ``rows`` as CSV, atomically: ``path`` is replaced only when
    the whole file is written. Floats are written with ``repr`` (they read back
    exactly); ``None`` becomes an empty cell."""
    with atomic_write(path, "w") as f:
        write_rows(f, header, rows)


def write_rows(f: IO[str], header: Sequence[str], rows: Iterable[Iterable[Cell]]) -> None:
    """Write ``header`` and ``rows`` as CSV to the open text stream ``f``."""
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if c is None else c for c in row] for row in rows)
