"""Batch-sized arrays that a stepper's forward and backward write into, step after step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.engine.batches import Rows
from gradfit.engine.types import Array


class Workspace:
    """Every layer's batch-sized arrays, for :meth:`MLP.forward
    <gradfit.engine.MLP.forward>` and :meth:`MLP.parameter_gradients
    <gradfit.engine.MLP.parameter_gradients>` to write into (their ``out``).

    A step that reuses them allocates no batch-sized array, each of which would cost
    the operating system's page faults afresh; the numbers are the same either way.
    They are allocated for the largest batch so far; a smaller one uses their first rows.

    Parameters
    ----------
    sizes : sequence of int
        The network's ``[n_in, *hidden, n_out]``.
    dtype : numpy dtype
        The network's dtype.
    """

    def __init__(self, sizes: Sequence[int], dtype: np.dtype[Any]) -> None:
        self.sizes, self.dtype = list(sizes), dtype
        self._rows = 0
        self._X1: Array = np.ones((0, self.sizes[0] + 1), dtype)
        self._Z: list[Array] = []
        self._G: list[Array] = []
        self._scratch: Array | None = None
        self._full: Array | None = None
        self._views: tuple[int, Array, list[Array], list[Array | None]] = (-1, self._X1, [], [])

    def batch(self, X: Array, rows: Rows) -> tuple[Array, list[Array], list[Array | None]]:
        """The arrays for one step on ``X[rows]`` (all of ``X``'s rows when ``rows`` is
        ``None``), with ``n`` rows:

        - ``[X[rows] 1]: (n, n_in + 1)``, the data with a column of ones, which the first
          layer's :meth:`Dense.forward <gradfit.engine.Dense.forward>` takes with its
          bias folded in. A full batch is copied in once, for as long as it stays here.
        - ``Z``: ``Z[i]: (n, sizes[i + 1])`` holds layer ``i``'s ``Z``, then its activation.
        - ``G``: ``G[i]: (n, sizes[i])`` the gradient for layer ``i``'s input, but ``G[0]``:
          no gradient of the data is formed. With one hidden layer and one output it is
          an ``(n, n_in + 1)`` scratch array for :meth:`MLP.parameter_gradients
          <gradfit.engine.MLP.parameter_gradients>`'s factored first layer, else ``None``.
        """
        if rows is None:
            n = X.shape[0]
            self._reserve(n)
            if self._full is not X:
                self._X1[:n, :-1] = X
                self._full = X
        else:
            batch = X[rows]
            n = batch.shape[0]
            self._reserve(n)
            self._X1[:n, :-1] = batch
            self._full = None
        if self._views[0] != n:
            scratch = self._scratch[:n] if self._scratch is not None else None
            G: list[Array | None] = [scratch, *(G[:n] for G in self._G)]
            self._views = (n, self._X1[:n], [Z[:n] for Z in self._Z], G)
        return self._views[1], self._views[2], self._views[3]

    def _reserve(self, n: int) -> None:
        if n > self._rows:
            sizes, dtype = self.sizes, self.dtype
            self._X1 = np.ones((n, sizes[0] + 1), dtype)
            self._Z = [np.empty((n, s), dtype) for s in sizes[1:]]
            self._G = [np.empty((n, s), dtype) for s in sizes[1:-1]]
            factored = len(sizes) == 3 and sizes[-1] == 1
            self._scratch = np.empty((n, sizes[0] + 1), dtype) if factored else None
            self._rows, self._full = n, None
            self._views = (-1, self._X1, [], [])
