"""The rows of each batch of an epoch: one generator for every trainer and backend.

The order is drawn chunk by chunk, so that memory stays bounded by a chunk however many
rows there are: the chunks in a random order, the rows of each chunk in a random order,
cut into batches; only one chunk's indices and one batch are held at a time. With a
single chunk (data in memory) it is ``rng.permutation(n)`` cut into batches.

The rows of a batch (:data:`Rows`) are ``None`` for all of them (full batch), a
``slice`` (unshuffled), or an array of row numbers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from gradfit.engine.types import Array

Rows = slice | Array | None
"""The rows of one batch: ``None`` for all, a slice, or an index array."""


def epoch_batches(
    bounds: Array, batch_size: int, rng: np.random.Generator, *, shuffle: bool = True
) -> Iterator[Rows]:
    """The rows of each batch of one epoch over chunks ``bounds = [0, …, n_rows]``.

    A ``batch_size`` of ``n_rows`` or more is one full batch, ``None``. Otherwise,
    shuffled: chunks in the order ``rng.permutation(n_chunks)`` (drawn only when there
    are several), each chunk's rows in the order ``rng.permutation(chunk)``,
    concatenated and cut into batches of ``batch_size`` (the last may be shorter).
    Unshuffled: ``slice(0, B), slice(B, 2B), …``.
    """
    n, B = int(bounds[-1]), batch_size
    if n <= B:
        yield None
        return
    if not shuffle:
        for start in range(0, n, B):
            yield slice(start, start + B)
        return
    n_chunks = len(bounds) - 1
    if n_chunks == 1:  # rows in memory: the same draws as below, without the bookkeeping
        order = rng.permutation(n)
        for start in range(0, n, B):
            yield order[start : start + B]
        return
    chunks = rng.permutation(n_chunks)
    pending: Array = np.empty(0, dtype=np.int64)
    for c in chunks:
        order = rng.permutation(int(bounds[c + 1] - bounds[c]))
        if bounds[c]:
            order += bounds[c]
        pending = np.concatenate([pending, order]) if pending.size else order
        full = pending.size - pending.size % B
        for start in range(0, full, B):
            yield pending[start : start + B]
        pending = pending[full:]
    if pending.size:
        yield pending


def count_rows(rows: Rows, n_samples: int) -> int:
    """The number of rows in ``rows`` (``None``: all ``n_samples``)."""
    if rows is None:
        return n_samples
    return len(range(n_samples)[rows]) if isinstance(rows, slice) else len(rows)


def pieces(rows: slice | Array, size: int) -> list[slice | Array]:
    """``rows`` cut into consecutive pieces of at most ``size`` rows (at least one piece)."""
    if isinstance(rows, slice):
        start, stop = rows.start or 0, rows.stop
        return [slice(a, min(a + size, stop)) for a in range(start, stop, size)] or [rows]
    return [rows[a : a + size] for a in range(0, len(rows), size)] or [rows]


def share(rows: Rows, n_samples: int, rank: int, world: int) -> slice | Array:
    """Rank ``rank``'s contiguous part of the global batch ``rows`` (``None``: all rows).

    The ``m`` rows are split at ``⌊i·m / world⌋``: the parts cover every row once
    and differ in size by at most one.
    """
    if rows is None:
        rows = slice(0, n_samples)
    if isinstance(rows, slice):
        r = range(n_samples)[rows]
        m = len(r)
        return slice(r.start + rank * m // world, r.start + (rank + 1) * m // world)
    m = len(rows)
    return rows[rank * m // world : (rank + 1) * m // world]
