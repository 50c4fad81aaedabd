"""Training from a :class:`~gradfit.io.arrays.RowSource`, in memory bounded by a chunk.

Two things keep memory independent of the number of rows:

- the shuffled order is drawn chunk by chunk over the source's ``bounds``
  (:func:`~gradfit.engine.batches.epoch_batches`, every
  :class:`~gradfit.engine.Trainer`'s order; with a single chunk, ``rng.permutation(n)``);
- a step reads its rows in pieces of at most ``chunk_rows`` and adds up their
  gradients (:func:`~gradfit.engine.batches.pieces`), so even a full batch over a file
  never sits in memory.

For data-parallel training, :func:`~gradfit.engine.batches.share` is the part of a global
batch one rank reads, and a :class:`Group` sums what the ranks computed.

:class:`SourceStepper` steps the NumPy engine on a source; the estimator's ``fit`` trains
it with a ``Trainer`` over the source's ``bounds`` (``MLPRegressor().fit(NpyRows(...))``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from gradfit.engine.batches import Rows, count_rows, pieces
from gradfit.engine.flat import split_flat
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import Optimizer
from gradfit.engine.stepper import EngineStepper
from gradfit.engine.types import Array
from gradfit.io.arrays import CHUNK_ROWS, RowSource


class Group(Protocol):
    """The processes training together: this one is ``rank`` of ``world``."""

    @property
    def rank(self) -> int: ...

    @property
    def world(self) -> int: ...

    def all_sum(self, A: Array) -> Array:
        """``A`` (float64) summed over the group's processes, the same on each."""
        ...

    def close(self, *, finished: bool) -> None:
        """Leave the group: together when the work ``finished``, at once after an error."""
        ...


class Alone:
    """A group of one process."""

    rank, world = 0, 1

    def all_sum(self, A: Array) -> Array:
        return A

    def close(self, *, finished: bool) -> None:
        pass


def summed_form(loss: Loss) -> Loss:
    """``loss.summed()``, the loss of a piece of a batch before the whole is reduced;
    ``ValueError`` for a loss that has none, which a stream cannot train."""
    try:
        return loss.summed()
    except NotImplementedError:
        raise ValueError(
            f"rows read in pieces train with mse, sse or a cross-entropy, not {loss!r}"
        ) from None


def summed_loss(
    loss: Loss,
    predict: Callable[[Array], Array],
    source: RowSource,
    rows: slice | Array,
    dtype: Any,
    chunk_rows: int,
) -> float:
    """``loss`` of ``predict(X)`` on ``rows`` of ``source``, read in pieces, as a sum over
    the rows' terms (:meth:`Loss.total <gradfit.engine.Loss.total>` of each piece's)."""
    total = 0.0
    for piece in pieces(rows, chunk_rows):
        X, Y = source.take(piece, dtype)
        total += loss.total(loss.value(predict(X), Y), Y.shape)
    return total


class SourceStepper(EngineStepper):
    """The NumPy engine's :class:`~gradfit.engine.Stepper` over a :class:`RowSource`.

    A step reads its rows in pieces of at most ``chunk_rows`` rows and sums their
    gradients before one optimizer update, so it equals one step on all the rows.
    """

    def __init__(
        self,
        net: MLP,
        source: RowSource,
        loss: Loss,
        optimizer: Optimizer,
        *,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.net, self.source, self.loss, self.optimizer = net, source, loss, optimizer
        self.n_samples = source.n_rows
        self.chunk_rows = chunk_rows
        self._summed = summed_form(loss)
        # Laid flat like the network's own gradients, so the optimizer reads them in place.
        self._flat_sum = np.zeros_like(net.flat_grad)
        self._sum = split_flat(self._flat_sum, net.parameters())

    def step(self, rows: Rows) -> float:
        loss, batch = self.loss, (count_rows(rows, self.n_samples), self.net.sizes[-1])
        rows = slice(0, self.n_samples) if rows is None else rows
        # The batch's loss is its pieces' summed terms, reduced once.
        scale, total = loss.gradient_scale(batch), 0.0
        self._flat_sum.fill(0)
        for piece in pieces(rows, self.chunk_rows):
            X, Y = self.source.take(piece, self.net.dtype)
            Y_hat = self.net.forward(X)
            value, G = self._summed.value_and_gradient(Y_hat, Y, out=Y_hat)
            total += value
            G *= scale
            self.net.parameter_gradients(G)
            self._flat_sum += self.net.flat_grad
        self.optimizer.step(self._sum)
        return loss.reduce(total, batch)

    def evaluate(self, X: Array | RowSource, Y: Array | None = None) -> float:
        """The loss on ``(X, Y)`` in memory, or on every row of the source ``X``, read in
        pieces, at the current parameters."""
        if isinstance(X, np.ndarray):
            assert Y is not None
            return super().evaluate(X, Y)
        n = X.n_rows
        total = summed_loss(
            self.loss, self.net.forward, X, slice(0, n), self.net.dtype, self.chunk_rows
        )
        return self.loss.reduce(total, (n, self.net.sizes[-1]))
