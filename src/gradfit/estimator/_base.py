"""What ``MLPRegressor`` and ``MLPClassifier`` share: training by either backend.

:class:`MLPBase` holds the fit: validation of the parameters, a seeded stream of random
numbers, the scaler of ``X``, a network, a validation split, early stopping, callbacks,
resuming, and the fitted curves. A subclass says what its targets are
(:mod:`~gradfit.estimator._regression`, :mod:`~gradfit.estimator._classification`): it
turns ``y`` into a float matrix ``Y`` (:meth:`MLPBase._validate`), names the loss on the
network's outputs (:meth:`MLPBase._loss`), and predicts. The network itself, its inputs
and its model file are :class:`~gradfit.estimator._network.NetworkEstimator`'s.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from gradfit.defaults import holds_out, members
from gradfit.engine.ensemble import Ensemble
from gradfit.engine.history import History
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.training import Callback
from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.estimator._data import standardizer
from gradfit.estimator._early_stopping import EarlyStopping, stop_reason
from gradfit.estimator._fitting import EstimatorTrainer, blas_threads, layers_from
from gradfit.estimator._network import NetworkEstimator
from gradfit.estimator._offers import OffersInstead, refuse_keywords
from gradfit.estimator._params import (
    Settings,
    batch_rows,
    check_continuable,
    held_out_fraction,
    optimizer_hyper,
    resolve,
)
from gradfit.estimator._source import TrainingRows, is_source, join, standardized
from gradfit.io.arrays import RowSource
from gradfit.io.statistics import ColumnStats, column_statistics
from gradfit.io.streaming import Group


class MLPBase(NetworkEstimator, OffersInstead):
    """The training shared by gradfit's estimators; see :class:`~gradfit.MLPRegressor`
    for the parameters and the fitted attributes."""

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        callbacks: Sequence[Callback] = (),
        resume_from: dict[str, Any] | None = None,
        **not_taken: Any,
    ) -> Any:
        """Train for up to ``max_iter`` epochs (from scratch unless ``warm_start``).

        Parameters
        ----------
        X : array-like or DataFrame, (n_samples, n_features), or RowSource
            The features; or a :class:`~gradfit.io.arrays.RowSource` holding features
            and targets (a classifier's labels as numbers), such as
            ``NpyRows``/``ParquetRows`` over a file larger than memory: it is read in
            chunks, and statistics, classes, validation split, order and steps are
            those of its arrays in memory (the order is shuffled chunk by chunk when
            the source has several chunks).
        y : array-like, (n_samples,) or (n_samples, n_outputs)
            The targets; ``None`` when ``X`` is a source.
        callbacks : sequence of callables
            ``callback(trainer)`` after every epoch, after the estimator's own
            early stopping; ``trainer.owner`` is this estimator, ``trainer.stepper``
            the model in training, and setting ``trainer.stop`` ends the fit.
        resume_from : dict, optional
            A ``trainer.state_dict()`` saved by a callback during an earlier ``fit``
            with the same data and parameters: the fit continues from there
            (parameters, optimizer, epoch, history, random state, callbacks' state)
            until ``n_iter_`` reaches ``max_iter``.

        Raises
        ------
        NotOfferedError
            For scikit-learn's ``sample_weight``, which gradfit does not take.
        DataError
            For input scikit-learn's checks reject (also a ``ValueError``).
        DivergenceError
            When the loss or a parameter becomes non-finite; the estimator keeps the
            parameters of the last finite epoch (as it does on Ctrl-C), or with
            ``early_stopping`` those of the best epoch so far.
        """
        refuse_keywords(self, "fit", not_taken)
        incremental = bool(self.warm_start) and hasattr(self, "net_") and resume_from is None
        return self._fit(X, y, incremental, partial=False, callbacks=callbacks, resume=resume_from)

    # What a subclass provides.

    def _validate(
        self, X: Any, y: Any, s: Settings, *, reset: bool, **kwargs: Any
    ) -> tuple[Array, Array]:
        """Checked ``X: (n, n_features)`` and targets ``Y: (n, n_outputs)`` of ``s.dtype``."""
        raise NotImplementedError

    def _loss(self, s: Settings) -> Loss:
        """The loss on the network's outputs."""
        raise NotImplementedError

    def _strata(self, data: tuple[Array, Array] | RowSource) -> Array | None:
        """A label per row of ``data`` to stratify the validation split by, or ``None``
        for a random split."""
        return None

    def _read(
        self, data: tuple[Array, Array] | RowSource, dtype: Any, group: Group
    ) -> tuple[tuple[Array, Array] | RowSource, tuple[ColumnStats, ColumnStats]]:
        """The rows to train on, and the column statistics of their ``X`` and ``Y`` (from
        one pass over a source's chunks, shared by ``group``)."""
        return data, column_statistics(data, dtype, group)

    def _epoch_callbacks(
        self, net: MLP, rows: TrainingRows, group: Group, incremental: bool
    ) -> list[Callback]:
        """The estimator's own callbacks after early stopping (none by default), for
        training a network like ``net`` on ``rows`` (arrays, or sources shared by
        ``group``); ``incremental`` continues a fit."""
        return []

    def _validate_source(self, source: RowSource, s: Settings) -> None:
        """Take the feature names of ``source``, a fit's rows read on demand."""
        self.n_features_in_ = len(source.feature_names)
        self.feature_names_in_ = np.asarray(source.feature_names, dtype=object)

    def _fit(
        self,
        X: Any,
        y: Any,
        incremental: bool,
        *,
        partial: bool,
        callbacks: Sequence[Callback],
        resume: dict[str, Any] | None = None,
        **validate: Any,
    ) -> Any:
        s = resolve(self.get_params())
        callbacks = _callbacks(callbacks)
        if is_source(X):
            if y is not None or incremental or partial:
                raise ValueError(
                    "rows read from a file (a RowSource) train with fit(source) from scratch: "
                    "it holds the targets, and warm_start and partial_fit take arrays"
                )
            self._validate_source(X, s)
        else:
            X, Y = self._validate(X, y, s, reset=not incremental, **validate)
            if incremental:
                if Y.shape[1] != self.n_outputs_:
                    raise DataError(
                        f"y has {Y.shape[1]} column(s) but the estimator was fitted with "
                        f"{self.n_outputs_}; pass the same outputs, or refit without warm_start"
                    )
                solver = getattr(self, "_fitted_solver", None)
                check_continuable(self.net_.spec, solver, s, self.n_outputs_)
        group = join(s, self.device)
        finished = False
        try:
            self._train(X if is_source(X) else (X, Y), s, incremental, partial, group,
                        callbacks=callbacks, resume=resume)  # fmt: skip
            finished = True
        finally:
            group.close(finished=finished)
        return self

    def _train(
        self,
        data: tuple[Array, Array] | RowSource,
        s: Settings,
        incremental: bool,
        partial: bool,
        group: Group,
        *,
        callbacks: Sequence[Callback],
        resume: dict[str, Any] | None,
    ) -> None:
        """Standardise, split, and train on ``data``: arrays in memory, or a source."""
        data, stats = self._read(data, s.dtype, group)
        n = self._n_rows = stats[0].n
        stop_early = not partial and holds_out(self.early_stopping, n, s.validation_fraction)
        fraction = None if partial else held_out_fraction(s, self.early_stopping, n)
        if incremental:
            net, history = self.net_, self.history_
            self._widen_range(stats[0])
        else:
            self._start(*stats, s)
            in_memory = isinstance(data, tuple) and group.world == 1
            n_train = n - round((fraction or 0.0) * n)
            work = n_train * sum(a * b for a, b in itertools.pairwise(self._sizes(s)))
            s = replace(s, n_members=members(s.n_members, stop_early, in_memory, work))
            net, history = self._new_network(s), None
        rows = TrainingRows.split(
            standardized(data, self.x_scaler_, getattr(self, "y_scaler_", None), s.dtype),
            fraction=fraction,
            rng=self._rng,
            strata=self._strata(data),
            in_memory=group.world == 1,
            members=net.n_members if isinstance(net, Ensemble) else 1,
        )
        self.validation_rows_ = rows.held
        batch = batch_rows(s.batch_size, rows.n_train)
        hyper = optimizer_hyper(self.get_params(), s, batch=batch, n_outputs=self.n_outputs_)
        stepper = rows.stepper(s, net, loss=self._loss(s), hyper=hyper, group=group,
                               device=self.device, batch=batch)  # fmt: skip
        if incremental and self._optimizer_state is not None:
            stepper.load_optimizer_state(self._optimizer_state)
        self._fitted_solver = s.solver
        stopping = None
        if not partial:
            monitor = "val_loss" if stop_early else "loss"
            stopping = EarlyStopping(patience=self.n_iter_no_change, tol=self.tol, monitor=monitor)
        own = self._epoch_callbacks(net, rows, group, incremental)
        trainer = EstimatorTrainer(
            stepper,
            owner=self,
            bounds=rows.bounds,
            batch_size=s.batch_size,
            shuffle=bool(self.shuffle),
            rng=self._rng,
            validation=rows.validation_arguments,
            record_parameters=bool(self.record_parameters),
            log_every=s.log_every if group.rank == 0 else None,
            callbacks=[*([stopping] if stopping else []), *own, *callbacks],
        )
        if history is not None:
            trainer.history, trainer.epoch = history, history.epochs
        epochs = 1 if partial else int(self.max_iter)
        if resume is not None:
            trainer.load_state_dict(resume)
            epochs = max(0, epochs - trainer.epoch)
        self.early_stopping_: bool | None = stop_early
        n_members = net.n_members if isinstance(net, Ensemble) else 1
        try:
            with blas_threads(trainer.batch_size, net.sizes, n_members):
                trainer.fit(epochs)
        finally:
            self._finish(trainer, net, stopping, restore=stop_early)
        if stopping is not None and epochs > 0:
            stopping.warn_if_still_improving(type(self).__name__, int(self.max_iter))

    def _start(self, x: ColumnStats, y: ColumnStats, s: Settings) -> None:
        """Reset: a new random stream, a new scaler of ``X`` (from its statistics ``x``),
        the range of ``X``, no optimizer state."""
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = seed.randint(np.iinfo(np.int32).max)
        self._rng = np.random.default_rng(seed)
        self.n_outputs_ = y.mean.size
        names = getattr(self, "feature_names_in_", None)
        self.x_scaler_ = standardizer(x, "X", names) if self.standardize else None
        self.x_min_: Array = x.low
        self.x_max_: Array = x.high
        self._optimizer_state: dict[str, Any] | None = None

    def _widen_range(self, x: ColumnStats) -> None:
        """``x_min_``/``x_max_``: each column's range over the rows seen before and now."""
        self.x_min_, self.x_max_ = np.fmin(self.x_min_, x.low), np.fmax(self.x_max_, x.high)

    def _finish(
        self, trainer: EstimatorTrainer, net: MLP, stopping: EarlyStopping | None, *, restore: bool
    ) -> None:
        """Copy the trained state out of ``trainer`` into the fitted attributes; with
        ``restore``, the parameters of ``stopping``'s best epoch."""
        if stopping is not None and restore:
            stopping.restore_best(trainer)
        self.best_epoch_ = stopping.best_epoch if stopping is not None and restore else None
        self.stop_reason_: str | None = stop_reason(stopping, trainer.epoch, int(self.max_iter))
        params = trainer.stepper.get_parameters()
        self.net_ = type(net).from_parameters(net.sizes, net.activation, params)
        self._optimizer_state = trainer.stepper.optimizer_state()
        self.history_: History = trainer.history
        self._set_curves()

    def _set_curves(self) -> None:
        h = self.history_
        self.n_iter_ = h.epochs
        self.loss_curve_ = list(h.loss)
        self.validation_loss_curve_ = list(h.val_loss)
        watched = h.val_loss or h.loss
        self.best_loss_ = min(watched) if watched else float("inf")
        self.coefs_, self.intercepts_ = layers_from(self.net_.parameters())


def _callbacks(callbacks: Any) -> tuple[Callback, ...]:
    """``callbacks`` as a tuple of callables, checked before training begins (``None``
    is none); an error otherwise, rather than Python's from inside the first epoch."""
    if callbacks is None:
        return ()
    if callable(callbacks) or isinstance(callbacks, str) or not isinstance(callbacks, Iterable):
        raise TypeError(
            f"callbacks must be a sequence of callables callback(trainer), such as "
            f"[print_loss]; got {callbacks!r}"
        )
    found = tuple(callbacks)
    for callback in found:
        if not callable(callback):
            raise TypeError(
                f"each of callbacks must be a callable callback(trainer); got {callback!r}"
            )
    return found
