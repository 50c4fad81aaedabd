"""Training from a :class:`~gradfit.io.arrays.RowSource`, in memory bounded by a chunk.

Two things keep memory independent of the number of rows:

- the shuffled order is drawn chunk by chunk (:func:`epoch_batches`): the chunks in a
  random order, the rows of each chunk in a random order, cut into batches; only one
  chunk's indices and one batch are held at a time. With a single chunk this is
  exactly :class:`~gradfit.engine.Trainer`'s order, ``rng.permutation(n)``;
- a step reads its rows in pieces of at most ``chunk_rows`` and adds up their
  gradients (:func:`pieces`), so even a full batch over a file never sits in memory.

For data-parallel training, :func:`share` is the part of a global batch one rank reads,
and a :class:`Group` sums what the ranks computed.

:class:`StreamingTrainer` is the engine's ``Trainer`` with that order, and
:class:`SourceStepper` steps the NumPy engine on a source; the estimator's ``fit`` puts
them together (``MLPRegressor().fit(NpyRows(...))``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np

from gradfit.engine.flat import split_flat
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import Optimizer
from gradfit.engine.training import EngineStepper, Rows, Stepper, Trainer
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


def epoch_batches(
    bounds: Array, batch_size: int, rng: np.random.Generator, *, shuffle: bool = True
) -> Iterator[slice | Array]:
    """The rows of each batch of one epoch over chunks ``bounds = [0, …, n_rows]``.

    Shuffled: chunks in the order ``rng.permutation(n_chunks)`` (drawn only when
    there are several), each chunk's rows in the order ``rng.permutation(chunk)``,
    concatenated and cut into batches of ``batch_size`` (the last may be shorter).
    Unshuffled: ``slice(0, B), slice(B, 2B), …``.
    """
    n, B = int(bounds[-1]), batch_size
    if not shuffle:
        for start in range(0, n, B):
            yield slice(start, start + B)
        return
    n_chunks = len(bounds) - 1
    chunks = rng.permutation(n_chunks) if n_chunks > 1 else range(n_chunks)
    pending: Array = np.empty(0, dtype=np.int64)
    for c in chunks:
        order = bounds[c] + rng.permutation(int(bounds[c + 1] - bounds[c]))
        pending = np.concatenate([pending, order]) if pending.size else order
        full = pending.size - pending.size % B
        for start in range(0, full, B):
            yield pending[start : start + B]
        pending = pending[full:]
    if pending.size:
        yield pending


def count(rows: Rows, n_rows: int) -> int:
    """The number of rows in ``rows`` (``None``: all ``n_rows``)."""
    if rows is None:
        return n_rows
    return len(range(n_rows)[rows]) if isinstance(rows, slice) else len(rows)


def pieces(rows: slice | Array, size: int) -> list[slice | Array]:
    """``rows`` cut into consecutive pieces of at most ``size`` rows (at least one piece)."""
    if isinstance(rows, slice):
        start, stop = rows.start or 0, rows.stop
        return [slice(a, min(a + size, stop)) for a in range(start, stop, size)] or [rows]
    return [rows[a : a + size] for a in range(0, len(rows), size)] or [rows]


def share(rows: Rows, n_rows: int, rank: int, world: int) -> slice | Array:
    """Rank ``rank``'s contiguous part of the global batch ``rows`` (``None``: all rows).

    The ``m`` rows are split at ``⌊i·m / world⌋``: the parts cover every row once
    and differ in size by at most one.
    """
    if rows is None:
        rows = slice(0, n_rows)
    if isinstance(rows, slice):
        r = range(n_rows)[rows]
        m = len(r)
        return slice(r.start + rank * m // world, r.start + (rank + 1) * m // world)
    m = len(rows)
    return rows[rank * m // world : (rank + 1) * m // world]


def summed_loss(
    loss: Loss,
    predict: Callable[[Array], Array],
    source: RowSource,
    rows: slice | Array,
    dtype: Any,
    chunk_rows: int,
) -> float:
    """``loss`` of ``predict(X)`` on ``rows`` of ``source``, read in pieces, as a sum over
    the rows' elements (a mean loss times its element count)."""
    total = 0.0
    for piece in pieces(rows, chunk_rows):
        X, Y = source.take(piece, dtype)
        value = loss.value(predict(X), Y)
        total += value * Y.size if loss.reduction == "mean" else value
    return total


def reduced(loss: Loss, total: float, n_rows: int, n_out: int) -> float:
    """A :func:`summed_loss` of ``n_rows`` rows of ``n_out`` targets, reduced as ``loss`` is."""
    return total / (n_rows * n_out) if loss.reduction == "mean" else total


class StreamingTrainer(Trainer):
    """:class:`~gradfit.engine.Trainer` drawing its shuffled order chunk by chunk.

    Parameters
    ----------
    stepper : Stepper
    bounds : array of int
        The source's chunk boundaries ``[0, …, n_rows]``.
    **kwargs
        As :class:`~gradfit.engine.Trainer`.
    """

    def __init__(self, stepper: Stepper, *, bounds: Array, **kwargs: Any) -> None:
        super().__init__(stepper, **kwargs)
        self.bounds = np.asarray(bounds, dtype=np.int64)

    def batches(self) -> Iterator[Rows]:
        if self.full_batch:
            yield None
            return
        yield from epoch_batches(self.bounds, self.batch_size, self.rng, shuffle=self.shuffle)


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
        if loss.name not in ("mse", "sse"):
            raise ValueError(f"streaming training uses 'mse' or 'sse', not {loss!r}")
        self.net, self.source, self.loss, self.optimizer = net, source, loss, optimizer
        self.n_samples = source.n_rows
        self.chunk_rows = chunk_rows
        # Laid flat like the network's own gradients, so the optimizer reads them in place.
        self._flat_sum = np.zeros_like(net.flat_grad)
        self._sum = split_flat(self._flat_sum, net.parameters())

    def step(self, rows: Rows) -> float:
        n_rows = count(rows, self.n_samples)
        rows = slice(0, self.n_samples) if rows is None else rows
        # dL/dŶ of the whole batch is 2 (Ŷ - Y) · scale, piece by piece.
        scale = 1.0 / (n_rows * self.net.sizes[-1]) if self.loss.name == "mse" else 1.0
        sse = 0.0
        self._flat_sum.fill(0)
        for piece in pieces(rows, self.chunk_rows):
            X, Y = self.source.take(piece, self.net.dtype)
            R = self.net.forward(X) - Y
            sse += float(np.vdot(R, R))
            R *= 2 * scale
            self.net.backward(R)
            self._flat_sum += self.net.flat_grad
        self.optimizer.step(self._sum)
        return sse * scale

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
        return reduced(self.loss, total, n, self.net.sizes[-1])
