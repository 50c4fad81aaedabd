"""A table read from a data file, and its cells turned into validated float arrays.

A :class:`Table` is what :func:`~gradfit.io.tabular.read_table` and
:func:`~gradfit.io.tabular.read_chunks` return: its column names, its cells as the file
holds them, and the checks that turn them into numbers (one-hot columns for text, see
:mod:`gradfit.io.categories`). Every problem is a :class:`~gradfit.errors.DataError`
whose message names the file and, where there is one, the column and the row. Rows are
counted from 1 among the data rows; for CSV the line of the file is given too, counting
every line (comments, blank lines).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.io import categories as cat
from gradfit.io import hints
from gradfit.io.csvfile import PANDAS_NA, cells_as_written, line_of_row
from gradfit.io.datafile import PARQUET_SUFFIXES

if TYPE_CHECKING:
    import pandas as pd

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

    def __post_init__(self) -> None:
        # Column names as text, as the command line names them: a Parquet file written
        # from a DataFrame with columns 0 and 1 reads back with integer names, and
        # --target 1 was 'not found' among '0', '1'.
        if any(not isinstance(c, str) for c in self.frame.columns):
            self.frame.columns = [str(c) for c in self.frame.columns]

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
                f"{hints.separator_hint(self.columns, missing)}"
                f"{hints.index_hint(self.path, missing)}{hints.near_names(self.columns, missing)}"
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
        written = {name: self._written(name) for name in counts}
        words = {name: self._missing_words(name, written[name]) for name in counts}
        at_least = ""
        try:
            for table in rest:
                for name, k in table.missing(names).items():
                    firsts.setdefault(name, table._first_missing(name))
                    counts[name] = counts.get(name, 0) + k
                    if name not in written:
                        written[name] = table._written(name)
                    words[name] = words.get(name, []) + table._missing_words(name, written[name])
        except DataError:
            at_least = "at least "  # a later chunk cannot be read: counted up to it
        parts = [
            f"column {name!r} {counts[name]} (the first at {firsts[name]}"
            f"{hints.written_as(words.get(name, []))})"
            for name in dict.fromkeys(names)
            if name in counts
        ]
        raise DataError(
            f"{self.path}: {at_least}{sum(counts.values())} missing cell(s) (empty or NaN): "
            f"{'; '.join(parts)}; {advice}{self._rename_hint(words)}"
        )

    def missing_words(self, name: str) -> list[str]:
        """The words, other than an empty cell or NaN, that the missing cells of column
        ``name`` are written as (``None``, ``NA``: pandas reads each as missing)."""
        return self._missing_words(name, self._written(name))

    def _written(self, name: str) -> list[str] | None:
        """Column ``name`` of a CSV file as written (:func:`cells_as_written`), or ``None``."""
        if self.path.suffix.lower() in (*PARQUET_SUFFIXES, ".npy"):
            return None
        return cells_as_written(self.path, name)

    def _missing_words(self, name: str, written: list[str] | None) -> list[str]:
        """The words, other than an empty cell or NaN, that this table's missing cells of
        column ``name`` are written as (``None``, ``NA``, ``null``: pandas reads each as
        missing), from the column as ``written`` in the file."""
        if written is None:
            return []
        rows = self.frame.index[self.frame[name].isna().to_numpy()]
        cells = {written[r].strip() for r in rows if r < len(written)}
        return sorted(w for w in cells if w and w.lower().lstrip("+-") != "nan")

    def _rename_hint(self, words: dict[str, list[str]]) -> str:
        """What to do where a word read as missing is a value of a text column (a class
        'None', a category 'NA'), not a missing one."""
        import pandas as pd

        for name, found in words.items():
            col = self.frame[name]
            if not found or not _is_text(col):
                continue
            if pd.to_numeric(col.dropna(), errors="coerce").isna().any():
                word = found[0]
                other = word.lower() if word.lower() not in PANDAS_NA else word.capitalize()
                return (
                    f"; a cell written {word!r} is read as missing, as pandas reads it: where "
                    f"{word!r} is a value of column {name!r} (a class or category of that "
                    f"name), rename it in the file, e.g. to {other!r}"
                )
        return ""

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
                cell = col.iloc[bad[0]]
                raise DataError(
                    f"{self.path}: column {name!r}, {self._where(bad[0])}: "
                    f"{cell!r} is not a number{hints.header_again(name, cell)}"
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
