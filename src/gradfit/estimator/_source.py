"""The rows a fit trains on: arrays in memory, or a :class:`~gradfit.io.arrays.RowSource`.

A source too large for memory is never read whole: its column statistics come from one
pass over its chunks (:mod:`gradfit.io.statistics`), and its rows are standardised and split into
training and validation rows as they are read (:class:`Standardized`, :class:`RowsOf`).
Arrays in memory train on the backends' in-memory steppers in one process, and as a
source of one chunk when several processes share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.datasets import Standardizer
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.stepper import Stepper
from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.estimator._data import check_every_class_trains, member_splits, split_validation
from gradfit.estimator._fitting import make_source_stepper, make_stepper
from gradfit.estimator._labels import Labels, as_labels
from gradfit.estimator._params import Settings
from gradfit.io.arrays import ArrayRows, Rows, RowSource
from gradfit.io.streaming import Alone, Group


class Standardized:
    """The rows of ``source`` with ``X`` and ``Y`` standardised as they are read.

    A read gives what standardising the whole arrays in memory gives for those rows:
    the values are taken in ``dtype``, standardised in float64, and cast back.
    """

    def __init__(self, source: RowSource, x: Standardizer | None, y: Standardizer | None) -> None:
        self.source, self.x, self.y = source, x, y
        self.n_rows, self.bounds = source.n_rows, source.bounds
        self.feature_names, self.target_names = source.feature_names, source.target_names

    def take(self, rows: Rows, dtype: Any) -> tuple[Array, Array]:
        X, Y = self.source.take(rows, dtype)
        return _scaled(X, Y, self.x, self.y, dtype)


def standardized(
    data: tuple[Array, Array] | RowSource,
    x: Standardizer | None,
    y: Standardizer | None,
    dtype: Any,
) -> tuple[Array, Array] | RowSource:
    """``data`` with ``X`` and ``Y`` standardised by ``x`` and ``y`` (``None``: as they are):
    the arrays in ``dtype``, or a source standardised as it is read."""
    if not isinstance(data, tuple):
        return Standardized(data, x, y)
    return _scaled(*data, x, y, dtype)


def _scaled(
    X: Array, Y: Array, x: Standardizer | None, y: Standardizer | None, dtype: Any
) -> tuple[Array, Array]:
    if x is not None:
        X = x.transform(X).astype(dtype)
    if y is not None:
        Y = y.transform(Y).astype(dtype)
    return X, Y


class Labelled:
    """The rows of ``source``, whose targets are class labels written as numbers, with
    the labels encoded by ``labels`` as they are read (one-hot rows, or 0/1 columns).

    ``strata`` holds each row's class index, to stratify a validation split by
    (``None`` for multilabel rows).
    """

    def __init__(self, source: RowSource, labels: Labels, strata: Array | None) -> None:
        self.source, self.labels, self.strata = source, labels, strata
        self.n_rows, self.bounds = source.n_rows, source.bounds
        self.feature_names, self.target_names = source.feature_names, source.target_names

    def take(self, rows: Rows, dtype: Any) -> tuple[Array, Array]:
        # Labels in float64 (exact up to 2**53), whatever the features' dtype.
        X, Y = self.source.take(rows, np.float64)
        return X.astype(dtype, copy=False), self.labels.encode(as_labels(Y), dtype)


class RowsOf:
    """The rows ``rows`` (sorted indices) of ``source``, as a source of their own.

    Its chunks are the parent's: row ``i`` is ``source``'s row ``rows[i]``, and the
    chunk boundaries are where the parent's fall among ``rows``. The rows are kept as one
    bit per row of ``source``, not as row numbers; a read turns the bits of the parent's
    chunks it touches into row numbers, and keeps the last chunk's for the next read.
    """

    def __init__(self, source: RowSource, rows: Array) -> None:
        self.source = source
        rows = np.asarray(rows, dtype=np.int64)
        self.n_rows = rows.size
        self.feature_names, self.target_names = source.feature_names, source.target_names
        picked = np.zeros(source.n_rows, dtype=bool)
        picked[rows] = True
        self._bits = np.packbits(picked)
        self._parent = np.asarray(source.bounds, dtype=np.int64)
        # Where each of the parent's chunks starts among ``rows``.
        self._starts = np.searchsorted(rows, self._parent)
        self.bounds = np.unique(self._starts)
        self._kept: tuple[int, Array] = (-1, rows[:0])

    def take(self, rows: Rows, dtype: Any) -> tuple[Array, Array]:
        at = np.arange(self.n_rows)[rows] if isinstance(rows, slice) else np.asarray(rows)
        # A chunk none of whose rows is picked starts where the next one does: "right"
        # finds the chunk that holds the row.
        chunks = np.searchsorted(self._starts, at, side="right") - 1
        if at.size and (chunks == chunks[0]).all():  # the trainer's batches: one chunk
            c = int(chunks[0])
            return self.source.take(self._chunk_rows(c)[at - self._starts[c]], dtype)
        parent = np.empty(at.size, dtype=np.int64)
        for c in np.unique(chunks):
            here = chunks == c
            parent[here] = self._chunk_rows(int(c))[at[here] - self._starts[c]]
        return self.source.take(parent, dtype)

    def _chunk_rows(self, c: int) -> Array:
        """The parent's row numbers picked in its chunk ``c``, in order."""
        if self._kept[0] != c:
            a, b = int(self._parent[c]), int(self._parent[c + 1])
            bits = np.unpackbits(self._bits[a // 8 : (b + 7) // 8])[a % 8 : a % 8 + b - a]
            self._kept = (c, a + np.flatnonzero(bits))
        return self._kept[1]


def is_source(data: Any) -> bool:
    """Whether ``data`` is a :class:`~gradfit.io.arrays.RowSource` (rows read on demand)."""
    return hasattr(data, "take") and hasattr(data, "bounds")


def join(s: Settings, device: Any) -> Group:
    """The processes this fit trains with: those ``torchrun`` started when
    ``s.distributed``, else this one alone."""
    if not s.distributed:
        return Alone()
    from gradfit.torch_backend.distributed import setup

    return setup(device)


@dataclass(frozen=True)
class TrainingRows:
    """The rows a fit trains on and those it validates on: arrays, or sources.

    ``held`` are the indices of the validation rows among all rows (``None``: none). An
    ensemble's members may each hold out rows of their own (bagging): ``train`` is then
    all the rows, ``member_rows: (K, n_train)`` those each member trains on, ``held:
    (K, n_held)`` those it validates on, and ``validation`` their ``(X, Y)`` gathered per
    member, ``(K, n_held, n_in)`` and ``(K, n_held, n_out)``.
    """

    train: tuple[Array, Array] | RowSource
    validation: tuple[Array, Array] | RowSource | None
    held: Array | None
    member_rows: Array | None = None

    @classmethod
    def split(
        cls,
        data: tuple[Array, Array] | RowSource,
        *,
        fraction: float | None,
        rng: np.random.Generator,
        strata: Array | None,
        in_memory: bool,
        members: int = 1,
    ) -> TrainingRows:
        """Hold out ``fraction`` of the rows of ``data``, drawn by :func:`split_validation`
        from ``rng`` (the same rows however the data is read or shared), in proportion
        within each of ``strata`` (a label per row) when given. Arrays stay arrays when
        ``in_memory`` (one process), else become sources for the ranks. With ``members``
        ``K > 1`` (arrays only), each member holds out a split of its own, as k-fold
        cross-validation draws them (:func:`member_splits`)."""
        n = data[0].shape[0] if isinstance(data, tuple) else data.n_rows
        if fraction is None:
            rows = cls(data, None, None)
        else:
            if n < 2:
                raise DataError(f"a validation split needs n_samples >= 2; got n_samples = {n}")
            if members > 1 and isinstance(data, tuple):
                X, Y = data
                train, held = member_splits(n, fraction, rng, members, strata=strata)
                check_every_class_trains(train, strata, fraction)
                return cls(data, (X[held], Y[held]), held, member_rows=train)
            train, held = split_validation(n, fraction, rng, strata=strata)
            check_every_class_trains(train, strata, fraction)
            if isinstance(data, tuple):
                X, Y = data
                rows = cls((X[train], Y[train]), (X[held], Y[held]), held)
            else:
                rows = cls(RowsOf(data, train), RowsOf(data, held), held)
        if in_memory or not isinstance(rows.train, tuple):
            return rows
        return cls(_as_source(rows.train), _as_source(rows.validation), rows.held)

    @property
    def streamed(self) -> bool:
        return not isinstance(self.train, tuple)

    @property
    def n_train(self) -> int:
        """The rows a member trains on."""
        if self.member_rows is not None:
            return int(self.member_rows.shape[1])
        return self.train[0].shape[0] if isinstance(self.train, tuple) else self.train.n_rows

    @property
    def bounds(self) -> Array:
        """The chunks the order is shuffled in: the source's, or one for arrays."""
        return np.array([0, self.n_train]) if isinstance(self.train, tuple) else self.train.bounds

    @property
    def validation_arguments(self) -> tuple[Any, Any] | None:
        """What the stepper's ``evaluate`` takes: ``(X, Y)``, or ``(source, None)``."""
        if self.validation is None or isinstance(self.validation, tuple):
            return self.validation
        return self.validation, None

    def stepper(
        self,
        s: Settings,
        net: MLP,
        *,
        loss: Loss,
        hyper: dict[str, Any],
        group: Group,
        device: Any,
        batch: int,
    ) -> Stepper:
        """The backend's stepper over these training rows (see :mod:`._fitting`)."""
        if isinstance(self.train, tuple):
            X, Y = self.train
            return make_stepper(s.backend, net, X, Y, loss=loss, solver=s.solver, hyper=hyper,
                                batch_rows=batch, device=device, precision=s.precision,
                                member_rows=self.member_rows)  # fmt: skip
        return make_source_stepper(s.backend, net, self.train, loss=loss, solver=s.solver,
                                   hyper=hyper, group=group, device=device,
                                   precision=s.precision)  # fmt: skip


def _as_source(data: tuple[Array, Array] | RowSource | None) -> Any:
    """Arrays as a source of one chunk (so that the order is the in-memory one)."""
    if not isinstance(data, tuple):
        return data
    X, Y = data
    return ArrayRows(X, Y, dtype=X.dtype, chunk_rows=max(1, X.shape[0]))
