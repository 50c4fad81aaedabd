"""Which task a target column asks for: classification (labels) or regression (numbers).

``gradfit fit`` decides from the column unless ``--task`` says: a column with text is
labels; so is one of integers with few distinct values (at most :data:`MAX_CLASSES`,
and at most half as many as rows); anything else is a number to regress.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.io.arrays import RowSource
from gradfit.io.table import Table

TASKS = ("classification", "regression")
MAX_CLASSES = 20


def most_classes(n_rows: int) -> int:
    """The most classes that ``n_rows`` rows can teach a classifier: half as many as rows
    (two rows a class on average)."""
    return n_rows // 2


@dataclass(frozen=True)
class Task:
    """What to fit: ``name`` (one of :data:`TASKS`), why (``reason``), and for
    classification the labels ``y``: ``(n_rows,)``, or ``(n_rows, n_targets)`` of 0/1."""

    name: str
    reason: str
    y: Array | None = None

    def describe(self, targets: tuple[str, ...]) -> str:
        """One line saying what was decided and how to choose otherwise."""
        other = "regression" if self.name == "classification" else "classification"
        columns = ", ".join(repr(t) for t in targets)
        return f"task: {self.name} of {columns} ({self.reason}); --task {other} to choose otherwise"


FIT_NUMBERS = "give a column of labels, or use --task regression to fit numbers"
"""What ``fit`` advises for a target that cannot be labels."""


def decide(
    table: Table, targets: tuple[str, ...], task: str | None, *, otherwise: str = FIT_NUMBERS
) -> Task:
    """The task for ``targets`` of ``table``; ``task`` (``--task``) overrides the guess.
    ``otherwise`` ends the message for a target that cannot be labels (``evaluate``,
    which has no ``--task``, asks for the column of the classifier's labels).

    Raises
    ------
    DataError
        For ``--task classification`` on a column of non-integer numbers, or several
        target columns that are not all 0/1; for empty label cells.
    """
    table.require(targets, role="target")
    columns = [_labels(table, t, task) for t in targets]
    if task == "regression":
        return Task("regression", "as --task says")
    if len(targets) > 1:
        columns = [_true_false_as_0_1(c) for c in columns]
        binary = all(c.dtype.kind in "iu" and set(np.unique(c)) <= {0, 1} for c in columns)
        if binary:
            return Task(
                "classification", "every target column is 0/1: multilabel", np.column_stack(columns)
            )
        text = [t for t, c in zip(targets, columns, strict=True) if c.dtype.kind in "OUS"]
        if text and task is None:
            raise DataError(
                f"{table.path}: target column(s) {', '.join(map(repr, text))} hold labels "
                "that are not 0/1; several target columns make a classifier only when each "
                "holds 0/1 (or True/False): a multilabel classification. Fit one model per "
                "column of labels (one --target each)"
            )
        if task == "classification":
            raise DataError(
                f"{table.path}: several target columns make a multilabel classification "
                f"only when each holds 0/1; {otherwise}"
            )
        return Task("regression", "several numeric target columns")
    y = columns[0]
    n_classes = len(np.unique(y))
    if y.dtype.kind in "OUS":
        words = "True/False" if set(np.unique(y).tolist()) <= {"True", "False"} else "text"
        return Task("classification", f"{words} labels, {n_classes} classes", y)
    if y.dtype.kind == "f":
        if task == "classification":
            i = int(np.flatnonzero(y != np.round(y))[0])
            raise DataError(
                f"{table.path}: column {targets[0]!r} holds non-integer numbers "
                f"(row {int(table.frame.index[i]) + 1}: {float(y[i])!r}), not class labels; "
                f"{otherwise}"
            )
        return Task("regression", "non-integer numbers")
    if task == "classification":
        return Task("classification", f"as --task says, {n_classes} classes", y)
    few = min(MAX_CLASSES, most_classes(table.n_rows))
    if n_classes <= few:
        return Task("classification", f"integers with {n_classes} distinct values", y)
    return Task("regression", f"integers with {n_classes} distinct values, more than {few}")


def spelled(whole: Table, rows: Table, name: str, y: Array) -> Array:
    """Integer labels ``y: (n_rows,)`` of column ``name`` of ``rows`` (``whole``'s rows, or
    some of them) as the file spells them, where it spells each otherwise than as a plain
    integer, and one way: codes ``01``, ``02``, ``10``, or ``1.0``. Those are the labels
    the model keeps and predict writes back, which a join on the column then matches.
    ``y`` as it is otherwise."""
    if y.dtype.kind not in "iu" or y.ndim != 1:
        return y
    cells = whole.as_written(name)
    if len(cells) != whole.n_rows:
        return y
    index = whole.frame.index.get_indexer(rows.frame.index)
    written = np.array([cells[i].strip() for i in index], dtype=str)
    if written.shape != y.shape or np.array_equal(written, y.astype(str)):
        return y
    if len(set(zip(y.tolist(), written.tolist(), strict=True))) != len(np.unique(y)):
        return y  # one integer written two ways ('1' and '01'): the numbers are the labels
    return written


def _true_false_as_0_1(labels: Array) -> Array:
    """A column of the labels ``True`` and ``False`` as 1 and 0 (a multilabel target, as
    booleans are written); any other column as it is."""
    if labels.dtype.kind == "U" and set(np.unique(labels).tolist()) <= {"True", "False"}:
        return (labels == "True").astype(np.int64)
    return labels


def _labels(table: Table, name: str, task: str | None) -> Array:
    """The column as labels: integers when every number is whole, text (and ``True`` and
    ``False``) as ``str``, else floats. A column of mostly numbers with some text is taken
    for numbers with a bad cell (unless ``task`` is classification), and the bad cell is
    reported."""
    import pandas as pd

    col = table.frame[name]
    if col.dtype.kind == "b":
        # True/False as written: as numbers they became classes 0 and 1, and predict wrote 1.
        return col.astype(str).to_numpy(dtype=str)
    if col.dtype.kind not in "biuf":
        numeric = pd.to_numeric(col, errors="coerce").notna().mean()
        if task == "regression":
            table.floats([name], role="target")  # raises, naming the first bad cell
        if numeric >= 0.5 and task is None:
            try:
                table.floats([name], role="target")
            except DataError as exc:
                # Mostly numbers: a typo, most likely; but it may be labels after all.
                raise DataError(
                    f"{exc}; if the column holds labels, --task classification"
                ) from None
        empty = np.flatnonzero(col.isna().to_numpy())
        if empty.size:
            row = int(table.frame.index[empty[0]]) + 1  # the file's row, also in a chunk
            raise DataError(
                f"{table.path}: column {name!r}, row {row}: the label is empty "
                f"({empty.size} such cell(s)); drop or fill them first"
            )
        return col.astype(str).str.strip().to_numpy(dtype=str)
    if col.dtype.kind in "iu":
        # As read, not through float64, which merges integers above 2**53 (ids as labels).
        return col.to_numpy()
    values = table.floats([name], role="target")[:, 0]
    whole = np.array_equal(values, np.round(values)) and np.abs(values).max() < 2**53
    return values.astype(np.int64) if whole else values


def decide_streamed(source: RowSource, targets: tuple[str, ...], task: str | None) -> Task:
    """The task for the target column(s) of a file read in chunks (``.npy``, Parquet:
    numbers), by :func:`decide`'s rule, reading no more chunks than it takes: the
    first non-integer, or more distinct integers than labels may have, ends the look.
    ``task`` (``--task``) decides without reading."""
    if task is not None:
        return Task(task, "as --task says")
    few = min(MAX_CLASSES, most_classes(source.n_rows))
    seen: Array = np.empty(0)
    bounds = source.bounds
    for c in range(len(bounds) - 1):
        Y = source.take(slice(int(bounds[c]), int(bounds[c + 1])), np.float64)[1]
        if not np.array_equal(Y, np.round(Y)):
            return Task("regression", "non-integer numbers")
        seen = np.union1d(seen, Y)
        if len(targets) > 1 and not set(seen.tolist()) <= {0.0, 1.0}:
            return Task("regression", "several numeric target columns")
        if len(targets) == 1 and seen.size > few:
            return Task("regression", f"integers with more than {few} distinct values")
    if len(targets) > 1:
        return Task("classification", "every target column is 0/1: multilabel")
    return Task("classification", f"integers with {seen.size} distinct values")
