"""Tables on disk: CSV, Parquet (with pyarrow) or ``.npy`` in, validated float arrays out.

:func:`read_table` is the one reader of data files for the command line (and for
anything else that reads a user's file as ``gradfit fit`` does). Every problem is a
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
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError, require
from gradfit.io import categories as cat
from gradfit.io.atomic import atomic_write
from gradfit.io.datafile import FORMATS, load_npy, regular_file

if TYPE_CHECKING:
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")
INDEX_NAMES = ("", "Unnamed: 0")
"""First-column names that mark a row index written by ``DataFrame.to_csv()``."""


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
        """Raise :class:`DataError` naming every column of ``names`` the table lacks."""
        missing = [n for n in names if n not in self.frame.columns]
        if missing:
            listed = ", ".join(repr(n) for n in missing)
            shown = ", ".join(repr(c) for c in self.columns[:20])
            more = f", … ({len(self.columns)} columns)" if len(self.columns) > 20 else ""
            raise DataError(
                f"{self.path}: {role} column(s) {listed} not found; the file has {shown}{more}"
            )

    def missing(self, names: Sequence[str]) -> dict[str, int]:
        """How many cells of each column of ``names`` are missing (empty or NaN), if any."""
        self.require(names, role="needed")
        counts = {n: int(self.frame[n].isna().sum()) for n in names}
        return {n: k for n, k in counts.items() if k}

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
        out: Array = np.empty((self.n_rows, len(names)), dtype=dtype)
        for j, name in enumerate(names):
            out[:, j] = self._numbers(name, role)
        return out

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
        blocks = []
        for name in names:
            if name in found:
                cells = self.frame[name].astype(str).str.strip().tolist()
                blocks.append(self._one_hot(name, cells, found[name], unseen))
            else:
                blocks.append(self._numbers(name, "feature")[:, None])
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

    def check_missing(self, names: Sequence[str]) -> None:
        """Raise :class:`DataError` naming each column of ``names`` with missing cells,
        how many, and where the first is."""
        counts = self.missing(names)
        if not counts:
            return
        parts = []
        for name, k in counts.items():
            first = int(np.flatnonzero(self.frame[name].isna().to_numpy())[0])
            parts.append(f"column {name!r} {k} (the first at {self._where(first)})")
        raise DataError(
            f"{self.path}: {sum(counts.values())} missing cell(s) (empty or NaN): "
            f"{'; '.join(parts)}; fill them, or leave those rows out (fit --drop-missing)"
        )

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
        return f"row {row + 1} (line {_line_of_row(self.path, row)})"


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
        table = Table(path, _read_npy(path))
    else:
        table = _read_csv(path)
    if table.n_rows < min_rows:
        have = "a header but no data rows" if table.n_rows == 0 else f"{table.n_rows} data row(s)"
        raise DataError(
            f"{path}: the file has {have}; at least {min_rows} data row(s) are needed to {purpose}"
        )
    return table


def _read_csv(path: Path) -> Table:
    import pandas as pd

    try:
        skip, header = _header(path)
        with warnings.catch_warnings():
            # index_col=False: a row with more fields than names is never taken as an
            # index; pandas warns of it, and the warning is the refusal below.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path, encoding="utf-8-sig", skiprows=skip, skipinitialspace=True, index_col=False
            )
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty; a header row and data rows are needed"
        ) from None
    except UnicodeDecodeError:
        raise DataError(
            f"{path}: not a UTF-8 text file, so not a CSV; gradfit reads {FORMATS} "
            "(Parquet and .npy by their suffix)"
        ) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise _ragged(path, len(header)) or DataError(
            f"{path}: not a readable CSV: {' '.join(str(exc).split())}"
        ) from None
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable CSV: {' '.join(str(exc).split())}") from None
    header = [h.strip() for h in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise DataError(
            f"{path}: duplicate column name(s) {', '.join(map(repr, duplicated))}; "
            "give every column its own name"
        )
    frame.columns = pd.Index(header)
    notes = []
    if header and header[0] in INDEX_NAMES and len(header) > 1:
        frame = frame.drop(columns=header[0])
        notes.append(
            f"{path}: the first column has no name: it is taken as a row index (as "
            "DataFrame.to_csv() writes one) and left out"
        )
        header = header[1:]
    unnamed = [j + 1 for j, h in enumerate(header) if h in INDEX_NAMES]
    if unnamed:
        raise DataError(f"{path}: column {unnamed[0]} of the header has no name; name every column")
    return Table(path, frame, tuple(notes))


def _header(path: Path) -> tuple[int, list[str]]:
    """Lines before the header (``#`` comments, blank lines) and the header's names."""
    skip = 0
    with open(path, newline="", encoding="utf-8-sig") as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#"):
                return skip, next(csv.reader([line]), [])
            skip += 1
    return skip, []


def _rows(path: Path) -> Iterable[tuple[int, list[str]]]:
    """``(line, fields)`` of each data row of a CSV file (blank lines left out)."""
    skip, _ = _header(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        for _ in range(skip + 1):
            f.readline()
        reader = csv.reader(f)
        for fields in reader:
            if fields and any(x.strip() for x in fields):
                yield reader.line_num + skip + 1, fields


def _line_of_row(path: Path, row: int) -> int:
    """The line of the file on which data row ``row`` (from 0) ends."""
    for i, (line, _) in enumerate(_rows(path)):
        if i == row:
            return line
    return -1


def _ragged(path: Path, n_names: int) -> DataError | None:
    """The error for the first row with more fields than the header, if there is one."""
    for line, fields in _rows(path):
        if len(fields) > n_names:
            return DataError(
                f"{path}: line {line} has {len(fields)} fields but the header names "
                f"{n_names} columns; fix that row (a stray comma, or a missing column name?)"
            )
    return None


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


def _read_npy(path: Path) -> pd.DataFrame:
    import pandas as pd

    A = load_npy(path)
    if A.ndim != 2 or A.dtype.kind not in "biuf":
        raise DataError(
            f"{path}: needs a 2-D numeric array (rows × columns); "
            f"found shape {A.shape}, dtype {A.dtype}"
        )
    return pd.DataFrame(A, columns=[str(j) for j in range(A.shape[1])])


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
