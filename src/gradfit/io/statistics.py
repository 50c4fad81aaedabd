"""Column statistics of a fit's data in one pass: in memory, or over a source's chunks.

Standardising needs each column's mean and standard deviation, and ``clip_inputs`` its
range. For rows read from a file these come from one pass over its chunks, each
process of a data-parallel group reading its share of them; the chunks' statistics
are merged in chunk order, so that the result is the same for any number of processes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.io.arrays import RowSource
from gradfit.io.streaming import Group


@dataclass(frozen=True)
class ColumnStats:
    """Count ``n``, ``mean``, sum of squared deviations ``m2``, ``low``/``high`` of columns.

    Two sets of rows merge by Chan, Golub & LeVeque's parallel update (1979): with
    ``δ = mean_b - mean_a`` and ``n = n_a + n_b``, ``mean = mean_a + δ n_b / n`` and
    ``m2 = m2_a + m2_b + δ² n_a n_b / n``; the population variance is ``m2 / n``.
    """

    n: int
    mean: Array
    m2: Array
    low: Array
    high: Array

    @classmethod
    def of(cls, A: Array) -> ColumnStats:
        """The statistics of ``A: (n, k)``, computed as ``A.mean(0)`` and ``A.std(0)`` are."""
        A = np.asarray(A, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            mean = A.mean(axis=0)
            m2 = ((A - mean) ** 2).sum(axis=0)
        return cls(A.shape[0], mean, m2, A.min(axis=0), A.max(axis=0))

    def merge(self, other: ColumnStats) -> ColumnStats:
        n = self.n + other.n
        with np.errstate(over="ignore", invalid="ignore"):
            delta = other.mean - self.mean
            mean = self.mean + delta * (other.n / n)
            m2 = self.m2 + other.m2 + delta**2 * (self.n * other.n / n)
        low, high = np.fmin(self.low, other.low), np.fmax(self.high, other.high)
        return ColumnStats(n, mean, m2, low, high)

    @property
    def sd(self) -> Array:
        """Population standard deviations (``ddof=0``)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return np.sqrt(self.m2 / self.n)

    def as_row(self) -> Array:
        return np.concatenate([[self.n], self.mean, self.m2, self.low, self.high])

    @classmethod
    def from_row(cls, row: Array) -> ColumnStats:
        mean, m2, low, high = np.split(row[1:], 4)
        return cls(int(row[0]), mean, m2, low, high)


def merged(stats: Iterable[ColumnStats]) -> ColumnStats:
    """The statistics of the union of the row sets, merged in order."""
    it = iter(stats)
    total = next(it)
    for s in it:
        total = total.merge(s)
    return total


def source_statistics(
    source: RowSource, dtype: Any, group: Group
) -> tuple[ColumnStats, ColumnStats]:
    """Column statistics of the source's ``X`` and ``Y``, from one pass over its chunks.

    Process ``rank`` of the group reads the chunks ``rank, rank + world, …``; each
    chunk's statistics are summed across the group into a table where every other
    process left zeros (so the sum is exact), and merged in chunk order. The result is
    the same on every process and for any number of processes.
    """
    x, y, _ = _one_pass(source, dtype, group, keep_targets=False)
    return x, y


def statistics_and_targets(
    source: RowSource, dtype: Any, group: Group
) -> tuple[ColumnStats, Array]:
    """The column statistics of the source's ``X`` (as :func:`source_statistics`) and
    every row's targets ``Y: (n_rows, n_targets)`` in float64, from one pass: a
    classifier's labels, which it needs whole to find its classes and to stratify its
    validation split (8 bytes a row and target, as the split's row indices take). Every
    process gets the same ``Y``: each fills the rows of its chunks, the rest are zeros,
    and the group sums them."""
    x, _, Y = _one_pass(source, dtype, group, keep_targets=True)
    assert Y is not None
    return x, Y


def _one_pass(
    source: RowSource, dtype: Any, group: Group, *, keep_targets: bool
) -> tuple[ColumnStats, ColumnStats, Array | None]:
    bounds = source.bounds
    n_x, n_y = len(source.feature_names), len(source.target_names)
    table = np.zeros((len(bounds) - 1, 2 + 4 * (n_x + n_y)))
    Y_all = np.zeros((source.n_rows, n_y)) if keep_targets else None
    for c in range(group.rank, len(bounds) - 1, group.world):
        rows = slice(int(bounds[c]), int(bounds[c + 1]))
        # Labels are read in float64, whatever the features' dtype (exact up to 2**53).
        X, Y = source.take(rows, np.float64 if keep_targets else dtype)
        X = X.astype(dtype, copy=False)
        table[c] = np.concatenate([ColumnStats.of(X).as_row(), ColumnStats.of(Y).as_row()])
        if Y_all is not None:
            Y_all[rows] = Y
    table = group.all_sum(table)
    if Y_all is not None:
        Y_all = group.all_sum(Y_all)
    split = 1 + 4 * n_x
    x = merged(ColumnStats.from_row(row[:split]) for row in table if row[0] > 0)
    y = merged(ColumnStats.from_row(row[split:]) for row in table if row[0] > 0)
    return x, y, Y_all


def column_statistics(
    data: tuple[Array, Array] | RowSource, dtype: Any, group: Group
) -> tuple[ColumnStats, ColumnStats]:
    """The column statistics of ``X`` and ``Y``: of the arrays, or of the source's
    chunks (:func:`source_statistics`)."""
    if isinstance(data, tuple):
        return ColumnStats.of(data[0]), ColumnStats.of(data[1])
    return source_statistics(data, dtype, group)
