"""Tables on disk: CSV (and Parquet, with pyarrow) in, validated float arrays out.

Every problem with a file is a :class:`~gradfit.errors.DataError` whose message
names the file and, where there is one, the column and the row. Rows are counted
from 1 among the data rows; for CSV the line of the file is given too (the header
is line 1).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError, require
from gradfit.io.atomic import atomic_write

if TYPE_CHECKING:
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class Table:
    """A table read from ``path``: its column names and its (unvalidated) cells."""

    path: Path
    frame: pd.DataFrame

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
            raise DataError(
                f"{self.path}: {role} column(s) {listed} not found; "
                f"the file has {', '.join(repr(c) for c in self.columns)}"
            )

    def floats(self, names: Sequence[str], *, role: str, dtype: type = np.float64) -> Array:
        """The columns ``names`` as a finite ``(n_rows, len(names))`` array of ``dtype``.

        Raises :class:`DataError` for a missing column, a non-numeric cell, an empty
        cell, NaN or infinity, naming the column and the row.
        """
        self.require(names, role=role)
        out: Array = np.empty((self.n_rows, len(names)), dtype=dtype)
        for j, name in enumerate(names):
            out[:, j] = self._column(name)
        return out

    def _column(self, name: str) -> Array:
        import pandas as pd

        col = self.frame[name]
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
        for test, what in ((np.isnan, "is empty or NaN"), (np.isinf, "is infinite")):
            hits = np.flatnonzero(test(values))
            if hits.size:
                raise DataError(
                    f"{self.path}: column {name!r}, {self._where(hits[0])}: the value {what} "
                    f"({hits.size} such cell(s)); drop or fill them first"
                )
        return values

    def _where(self, i: int) -> str:
        if self.path.suffix.lower() in PARQUET_SUFFIXES:
            return f"row {i + 1}"
        return f"row {i + 1} (line {i + 2})"


def read_table(
    path: str | os.PathLike[str], *, min_rows: int = 1, purpose: str = "read it"
) -> Table:
    """Read a CSV file (or Parquet, by its suffix) with a header row.

    Raises :class:`DataError` when the file is missing, empty, not a table, has
    duplicate column names, or has fewer than ``min_rows`` data rows (the message
    says they are needed to ``purpose``).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file {str(path)!r} does not exist")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a data file")
    frame = _read_parquet(path) if path.suffix.lower() in PARQUET_SUFFIXES else _read_csv(path)
    table = Table(path, frame)
    if table.n_rows < min_rows:
        have = "a header but no data rows" if table.n_rows == 0 else f"{table.n_rows} data row(s)"
        raise DataError(
            f"{path}: the file has {have}; at least {min_rows} data row(s) are needed to {purpose}"
        )
    return table


def _read_csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
        frame = pd.read_csv(path, encoding="utf-8", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty; a header row and data rows are needed"
        ) from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file; is it really a CSV?") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable CSV: {' '.join(str(exc).split())}") from None
    header = [h.strip() for h in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise DataError(f"{path}: duplicate column name(s) {', '.join(map(repr, duplicated))}")
    # read_csv names unnamed columns "Unnamed: 0"; keep the header's own (stripped) names.
    if len(header) == len(frame.columns):
        frame.columns = pd.Index(header)
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    require("pyarrow", "parquet")
    import pandas as pd
    import pyarrow as pa

    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from None


Cell = float | int | str | None


def write_csv(
    path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Iterable[Cell]]
) -> None:
    """Write ``header`` and ``rows`` as CSV, atomically: ``path`` is replaced only when
    the whole file is written. Floats are written with ``repr`` (they read back
    exactly); ``None`` becomes an empty cell."""
    with atomic_write(path, "w") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if c is None else c for c in row] for row in rows)


def write_array(path: str | os.PathLike[str], header: Sequence[str], values: Array) -> None:
    """Write ``values: (n_rows, len(header))`` as CSV, atomically (see :func:`write_csv`)."""
    if values.ndim != 2 or values.shape[1] != len(header):
        raise ValueError(f"values of shape {values.shape} do not match {len(header)} column(s)")
    write_csv(path, header, values.astype(np.float64).tolist())
