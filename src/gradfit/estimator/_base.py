"""What ``MLPRegressor`` and ``MLPClassifier`` share: training by either backend.

:class:`MLPBase` holds the fit: validation of the parameters, a seeded stream of random
numbers, the scaler of ``X``, a network, a validation split, early stopping, callbacks,
resuming, and the fitted curves. A subclass says what its targets are: it turns ``y``
into a float matrix ``Y`` (:meth:`MLPBase._validate`), names the loss on the network's
outputs (:meth:`MLPBase._loss`), and predicts.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from gradfit.defaults import holds_out
from gradfit.engine.ensemble import Ensemble
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.training import Callback, History
from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.estimator import _state
from gradfit.estimator._data import fit_standardizer, split_validation
from gradfit.estimator._early_stopping import EarlyStopping
from gradfit.estimator._fitting import EstimatorTrainer, blas_threads, layers_from, make_stepper
from gradfit.estimator._params import (
    Settings,
    batch_rows,
    check_continuable,
    held_out_fraction,
    optimizer_hyper,
    resolve,
)


class MLPBase(BaseEstimator):  # type: ignore[misc]
    """The training shared by gradfit's estimators; see :class:`~gradfit.MLPRegressor`
    for the parameters and the fitted attributes."""

    def __sklearn_is_fitted__(self) -> bool:
        # Scalers are set before training starts; only a network means a fit happened.
        return hasattr(self, "net_")

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        callbacks: Sequence[Callback] = (),
        resume_from: dict[str, Any] | None = None,
    ) -> Any:
        """Train for up to ``max_iter`` epochs (from scratch unless ``warm_start``).

        Parameters
        ----------
        X : array-like or DataFrame, (n_samples, n_features)
        y : array-like, (n_samples,) or (n_samples, n_outputs)
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
        DataError
            For input scikit-learn's checks reject (also a ``ValueError``).
        DivergenceError
            When the loss or a parameter becomes non-finite; the estimator keeps the
            parameters of the last finite epoch (as it does on Ctrl-C), or with
            ``early_stopping`` those of the best epoch so far.
        """
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

    def _strata(self, Y: Array) -> Array | None:
        """Labels to stratify the validation split by, or ``None`` for a random split."""
        return None

    def _export_targets(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """What the model file keeps about the targets: ``(meta, arrays)``."""
        raise NotImplementedError

    def _import_targets(self, meta: dict[str, Any], arrays: dict[str, Array]) -> None:
        """Restore what :meth:`_export_targets` wrote."""
        raise NotImplementedError

    def _epoch_callbacks(
        self,
        net: MLP,
        X: Array,
        Y: Array,
        validation: tuple[Array, Array] | None,
        incremental: bool,
    ) -> list[Callback]:
        """The estimator's own callbacks after early stopping (none by default), for
        training a network like ``net`` on ``(X, Y)``; ``incremental`` continues a fit."""
        return []

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
        X, Y = self._validate(X, y, s, reset=not incremental, **validate)
        if incremental:
            if Y.shape[1] != self.n_outputs_:
                raise DataError(
                    f"y has {Y.shape[1]} column(s) but the estimator was fitted with "
                    f"{self.n_outputs_}; pass the same outputs, or refit without warm_start"
                )
            check_continuable(self.net_.spec, getattr(self, "_fitted_solver", None), s)
            net, history = self.net_, self.history_
        else:
            self._start(X, Y, s)
            net, history = self._new_network(s), None
        self._widen_range(X, incremental)
        X, Y = self._scaled(X, Y, s.dtype)
        stop_early = not partial and holds_out(
            self.early_stopping, X.shape[0], s.validation_fraction
        )
        fraction = None if partial else held_out_fraction(s, self.early_stopping, X.shape[0])
        validation, self.validation_rows_ = None, None
        if fraction is not None:
            if X.shape[0] < 2:
                raise DataError(
                    f"a validation split needs n_samples >= 2; got n_samples = {X.shape[0]}"
                )
            rows, held = split_validation(X.shape[0], fraction, self._rng, strata=self._strata(Y))
            X, Y, validation = X[rows], Y[rows], (X[held], Y[held])
            self.validation_rows_ = held
        batch = batch_rows(self.batch_size, X.shape[0])
        stepper = make_stepper(
            s.backend, net, X, Y, loss=self._loss(s), solver=s.solver, device=self.device,
            hyper=optimizer_hyper(self.get_params(), s, batch=batch, n_outputs=Y.shape[1]),
            batch_rows=batch, precision=s.precision,
        )  # fmt: skip
        if incremental and self._optimizer_state is not None:
            stepper.load_optimizer_state(self._optimizer_state)
        self._fitted_solver = s.solver
        stopping = None
        if not partial:
            monitor = "val_loss" if stop_early else "loss"
            stopping = EarlyStopping(patience=self.n_iter_no_change, tol=self.tol, monitor=monitor)
        own = self._epoch_callbacks(net, X, Y, validation, incremental)
        trainer = EstimatorTrainer(
            stepper,
            owner=self,
            batch_size=batch,
            shuffle=bool(self.shuffle),
            rng=self._rng,
            validation=validation,
            record_parameters=bool(self.record_parameters),
            log_every=s.log_every,
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
        if (
            stopping is not None
            and not stopping.stopped
            and epochs > 0
            and stopping.bad_epochs == 0
        ):
            watched = "validation loss" if stop_early else "loss"
            warnings.warn(
                f"{type(self).__name__} reached max_iter={self.max_iter} epochs while the "
                f"{watched} was still falling by more than tol={self.tol}; raise max_iter or "
                "learning_rate_init",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _start(self, X: Array, Y: Array, s: Settings) -> None:
        """Reset: a new random stream, a new scaler of ``X``, no optimizer state."""
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = seed.randint(np.iinfo(np.int32).max)
        self._rng = np.random.default_rng(seed)
        self.n_outputs_ = Y.shape[1]
        self.x_scaler_ = fit_standardizer(X, "X") if self.standardize else None
        self._optimizer_state: dict[str, Any] | None = None

    def _widen_range(self, X: Array, incremental: bool) -> None:
        """``x_min_``/``x_max_``: each column's range over ``X`` and, when
        ``incremental``, over the rows seen before."""
        low, high = X.min(axis=0), X.max(axis=0)
        if incremental:
            low, high = np.fmin(self.x_min_, low), np.fmax(self.x_max_, high)
        self.x_min_: Array = low
        self.x_max_: Array = high

    def _new_network(self, s: Settings) -> MLP:
        sizes = [self.n_features_in_, *s.hidden, self.n_outputs_]
        return MLP(sizes, s.activation, rng=self._rng, dtype=s.dtype)

    def _scaled(self, X: Array, Y: Array, dtype: Any) -> tuple[Array, Array]:
        if self.x_scaler_ is not None:
            X = self.x_scaler_.transform(X).astype(dtype)
        return X, Y

    def _outputs(self, X: Array, dtype: Any = None) -> Array:
        """The network's outputs ``(n_samples, n_outputs)`` for validated ``X``, computed in
        ``dtype`` (by default the network's)."""
        net = self.net_
        dtype = net.dtype if dtype is None else np.dtype(dtype)
        if self.clip_inputs:
            X = np.clip(X, self.x_min_, self.x_max_).astype(dtype, copy=False)
        if self.x_scaler_ is not None:
            X = self.x_scaler_.transform(X).astype(dtype)
        # A copy, so that predicting keeps no reference to X in the fitted network.
        params = [p.astype(dtype) for p in net.parameters()]
        return MLP.from_parameters(net.sizes, net.activation, params).forward(X)

    def _finish(
        self, trainer: EstimatorTrainer, net: MLP, stopping: EarlyStopping | None, *, restore: bool
    ) -> None:
        """Copy the trained state out of ``trainer`` into the fitted attributes; with
        ``restore``, the parameters of ``stopping``'s best epoch."""
        if stopping is not None and restore:
            stopping.restore_best(trainer)
        self.best_epoch_ = stopping.best_epoch if stopping is not None and restore else None
        self.stop_reason_: str | None = _stop_reason(stopping, trainer.epoch, int(self.max_iter))
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

    def _export_state(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """Everything ``predict`` needs, as ``(JSON-serialisable meta, named arrays)``.

        See :func:`gradfit.estimator._state.export_state` for the layout; no pickle.
        """
        return _state.export_state(self)

    @classmethod
    def _import_state(cls, meta: dict[str, Any], arrays: dict[str, Array]) -> Any:
        """A fitted estimator rebuilt from :meth:`_export_state`'s output."""
        return _state.import_state(cls, meta, arrays)


def _stop_reason(stopping: EarlyStopping | None, epochs: int, max_iter: int) -> str:
    """Why a fit ended: ``"early_stopping"`` (the validation loss stopped improving),
    ``"no_improvement"`` (the training loss did), ``"max_iter"``, or ``"interrupted"``
    (an exception or a callback's ``trainer.stop``)."""
    if stopping is not None and stopping.stopped:
        return "early_stopping" if stopping.monitor == "val_loss" else "no_improvement"
    return "max_iter" if epochs >= max_iter else "interrupted"
