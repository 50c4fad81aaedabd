"""Tables on disk: CSV, Parquet (with pyarrow) or ``.npy`` in, validated float arrays out.

:func:`read_table` is the one reader of data files for the command line (and for
anything else that reads a user's file as ``gradfit fit`` does); :func:`read_chunks`
reads the same files a chunk of rows at a time, with the same checks, so that
``predict`` and ``evaluate`` take a file of any size. A ``.npy`` file's columns are
named by their index, as everywhere (:func:`~gradfit.io.datafile.npy_columns`). Every problem is a
:class:`~gradfit.errors.DataError` whose message names the file and, where there is
one, the column and the row. Rows are counted from 1 among the data rows; for CSV
the line of the file is given too, counting every line (comments, blank lines).

What a CSV may hold, as real files come: a UTF-8 byte-order mark (dropped), lines
beginning with ``#`` before the header (skipped), blank lines (skipped), a leading
unnamed index column as ``DataFrame.to_csv()`` writes it (left out, with a note in
:attr:`Table.notes`), text columns with few distinct values (one-hot features, see
:mod:`gradfit.io.categories`). Refused: a row with more fields than the header,
duplicate or empty column names.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError, require
from gradfit.io import categories as cat
from gradfit.io.atomic import atomic_write
from gradfit.io.csvfile import cells_as_written, csv_frames, line_of_row
from gradfit.io.datafile import load_npy, npy_columns, regular_file, rows_per_chunk

if TYPE_CHECKING:
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")

DROP_MISSING = "fill them, or leave those rows out (fit --drop-missing)"
"""What to do about missing cells, when training."""

LEAVE_OUT = "fill them, or leave those rows out of the file"
"""What to do about missing cells in a file to predict or score."""


@dataclass(frozen=True)
class Table:
    """A table read from ``path``: its column names, its (unvalidated) cells, and notes
    on what the reader left out. ``frame``'s index numbers the file's data rows from 0."""

    path: Path
    frame: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def require(self, names: Sequence[str], *, role: str) -> None:
        """Raise :class:`DataError` naming every column of ``names`` the table lacks, or the
        first that holds lists or records."""
        missing = [n for n in names if n not in self.frame.columns]
        if missing:
            listed = ", ".join(repr(n) for n in missing)
            shown = ", ".join(repr(c) for c in self.columns[:20]) or "no columns"
            more = f", … ({len(self.columns)} columns)" if len(self.columns) > 20 else ""
            raise DataError(
                f"{self.path}: {role} column(s) {listed} not found; the file has {shown}{more}"
            )
        nested = [n for n in names if _nested(self.frame[n])]
        if nested:
            # A Parquet list or struct column would otherwise be read as text, one
            # category (or one class) per distinct value.
            raise DataError(
                f"{self.path}: {role} column {nested[0]!r} holds lists or records, not numbers "
                "or text; spread them into one column per number first"
            )

    def missing(self, names: Sequence[str]) -> dict[str, int]:
        """How many cells of each column of ``names`` are missing (empty or NaN), if any."""
        self.require(names, role="needed")
        counts = self.frame[list(dict.fromkeys(names))].isna().sum()
        return {str(n): int(k) for n, k in counts.items() if k}

    def drop_missing(self, names: Sequence[str]) -> tuple[Table, int]:
        """This table without the rows missing a cell of ``names``; and how many went."""
        self.require(names, role="needed")
        kept = self.frame.dropna(subset=list(names))
        return replace(self, frame=kept), self.n_rows - len(kept)

    def floats(self, names: Sequence[str], *, role: str, dtype: Any = np.float64) -> Array:
        """The numeric columns ``names`` as a finite ``(n_rows, len(names))`` array.

        Raises :class:`DataError` for a missing column, missing cells (naming each
        column and how many), a cell that is not a number, or an infinite one.
        """
        self.require(names, role=role)
        self.check_missing(names)
        return self._number_block(names, role).astype(dtype, copy=False)

    def features(
        self,
        names: Sequence[str],
        categories: cat.Categories | None = None,
        *,
        unseen: str = "error",
    ) -> tuple[Array, list[str], dict[str, list[str]]]:
        """The feature columns ``names``, category columns one-hot encoded.

        With ``categories`` (those of a fitted model), exactly those columns are
        encoded, with those values; without, every text column is found and its
        values taken from this table. Returns ``X: (n_rows, n_features)``, the
        feature names (``column=value`` for one-hot columns) and the categories.
        """
        self.require(names, role="feature")
        self.check_missing(names)
        found = dict(categories) if categories is not None else self._categories(names)
        numeric = [name for name in names if name not in found]
        numbers = dict(zip(numeric, self._number_block(numeric, "feature").T, strict=True))
        blocks = []
        for name in names:
            if name in found:
                cells = self.frame[name].astype(str).str.strip().tolist()
                blocks.append(self._one_hot(name, cells, found[name], unseen))
            else:
                blocks.append(numbers[name][:, None])
        X = np.hstack(blocks) if blocks else np.empty((self.n_rows, 0))
        encoded = cat.encoded_names(names, found)
        clash = sorted({n for n in encoded if encoded.count(n) > 1})
        if clash:
            raise DataError(
                f"{self.path}: the one-hot column {clash[0]!r} of a text column has the name of "
                "another column; rename that column"
            )
        return X, encoded, {k: list(v) for k, v in found.items()}

    def _one_hot(self, name: str, cells: list[str], values: Sequence[str], unseen: str) -> Array:
        try:
            return cat.one_hot(name, cells, values, unseen=unseen, where=self._where)
        except DataError as exc:
            raise DataError(f"{self.path}: {exc}") from None

    def _categories(self, names: Sequence[str]) -> dict[str, list[str]]:
        """The text columns among ``names``: none of their cells is a number."""
        import pandas as pd

        found = {}
        for name in names:
            col = self.frame[name]
            if col.dtype.kind in "biufmM" or not _is_text(col):
                continue
            if pd.to_numeric(col, errors="coerce").notna().any():
                continue  # numbers with a typo: reported by _numbers, not encoded
            cells = col.astype(str).str.strip().tolist()
            found[name] = cat.values_of(name, cells, str(self.path))
        return found

    def as_written(self, name: str) -> list[str]:
        """The cells of column ``name`` of a table read whole (:func:`read_table`) as the
        file spells them, spaces around them kept: a CSV's read again for that column
        (the reader drops spaces after a comma), unless that reading does not line up."""
        cells = self.frame[name].astype(str).tolist()
        if self.path.suffix.lower() in (*PARQUET_SUFFIXES, ".npy"):
            return cells
        written = cells_as_written(self.path, name)
        return cells if written is None or len(written) != len(cells) else written

    def check_missing(
        self, names: Sequence[str], rest: Iterable[Table] = (), *, advice: str = DROP_MISSING
    ) -> None:
        """Raise :class:`DataError` naming each column of ``names`` with missing cells,
        how many, and where the first is, then ``advice``.

        ``rest``: the tables of the file's later chunks (:func:`read_chunks`), read to the
        end only when this one misses a cell, so that the counts are the file's, not
        this chunk's.
        """
        counts = self.missing(names)
        if not counts:
            return
        firsts = {name: self._first_missing(name) for name in counts}
        at_least = ""
        try:
            for table in rest:
                for name, k in table.missing(names).items():
                    firsts.setdefault(name, table._first_missing(name))
                    counts[name] = counts.get(name, 0) + k
        except DataError:
            at_least = "at least "  # a later chunk cannot be read: counted up to it
        parts = [
            f"column {name!r} {counts[name]} (the first at {firsts[name]})"
            for name in dict.fromkeys(names)
            if name in counts
        ]
        raise DataError(
            f"{self.path}: {at_least}{sum(counts.values())} missing cell(s) (empty or NaN): "
            f"{'; '.join(parts)}; {advice}"
        )

    def _first_missing(self, name: str) -> str:
        """Where the first missing cell of column ``name`` is (it has one)."""
        return self._where(int(np.flatnonzero(self.frame[name].isna().to_numpy())[0]))

    def _number_block(self, names: Sequence[str], role: str) -> Array:
        """The columns ``names`` as a float64 ``(n_rows, len(names))`` array: those of a
        numeric dtype in one conversion (a wide file has thousands), the others one by one."""
        out: Array = np.empty((self.n_rows, len(names)))
        plain = [j for j, name in enumerate(names) if self.frame[name].dtype.kind in "biuf"]
        if plain:
            out[:, plain] = self.frame[[names[j] for j in plain]].to_numpy(dtype=np.float64)
            infinite = np.isinf(out[:, plain]).any(axis=0)
            if infinite.any():
                self._numbers(names[plain[int(np.argmax(infinite))]], role)  # raises, naming it
        for j in sorted(set(range(len(names))) - set(plain)):
            out[:, j] = self._numbers(names[j], role)
        return out

    def _numbers(self, name: str, role: str) -> Array:
        import pandas as pd

        col = self.frame[name]
        if col.dtype.kind in "mM" or isinstance(col.dtype, pd.DatetimeTZDtype):
            raise DataError(
                f"{self.path}: {role} column {name!r} holds dates or times ({col.dtype}); "
                "convert them to numbers first (e.g. seconds since a start)"
            )
        if col.dtype.kind not in "biuf":
            numbers = pd.to_numeric(col, errors="coerce")
            bad = np.flatnonzero(numbers.isna().to_numpy() & col.notna().to_numpy())
            if bad.size:
                raise DataError(
                    f"{self.path}: column {name!r}, {self._where(bad[0])}: "
                    f"{col.iloc[bad[0]]!r} is not a number"
                )
            col = numbers
        values = col.to_numpy(dtype=np.float64)
        hits = np.flatnonzero(np.isinf(values))
        if hits.size:
            raise DataError(
                f"{self.path}: column {name!r}, {self._where(hits[0])}: the value is infinite "
                f"({hits.size} such cell(s)); drop or fill them first"
            )
        return values

    def _where(self, i: int) -> str:
        """Row ``i`` of the frame as the file numbers it: ``row 3 (line 6)`` for CSV."""
        row = int(self.frame.index[i])
        if self.path.suffix.lower() in (*PARQUET_SUFFIXES, ".npy"):
            return f"row {row + 1}"
        return f"row {row + 1} (line {line_of_row(self.path, row)})"


def _nested(col: Any) -> bool:
    """Whether the column's cells are lists, arrays or dicts (Parquet's nested types)."""
    if col.dtype != object:
        return False
    first = col[col.notna()].iloc[:1]
    return bool(len(first)) and isinstance(first.iloc[0], (list, tuple, dict, np.ndarray))


def _is_text(col: Any) -> bool:
    return col.dtype == object or str(col.dtype) in ("string", "category", "str")


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
            yield Table(path, frame, notes)
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
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from None
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
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from None


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
    if A.ndim != 2 or A.dtype.kind not in "biuf":
        raise DataError(
            f"{path}: needs a 2-D numeric array (rows × columns); "
            f"found shape {A.shape}, dtype {A.dtype}"
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
