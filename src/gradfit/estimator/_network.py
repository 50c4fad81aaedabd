"""The network an estimator holds: its shape, a new one, what it computes, its model file.

:class:`NetworkEstimator` is what a fitted estimator predicts with: the network ``net_``
(one :class:`~gradfit.engine.MLP`, or an :class:`~gradfit.engine.Ensemble` of stacked
members), the inputs it takes (clipped to the training range, standardised) and its
outputs; and the state :func:`gradfit.save` writes (:mod:`gradfit.estimator._state`).
The fit that sets it is :class:`~gradfit.estimator._base.MLPBase`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from gradfit.engine.ensemble import Ensemble
from gradfit.engine.network import MLP
from gradfit.engine.types import Array
from gradfit.estimator import _state
from gradfit.estimator._fitting import EstimatorTrainer
from gradfit.estimator._params import Settings


class NetworkEstimator(BaseEstimator):  # type: ignore[misc]
    """An estimator around one network ``net_``; see :class:`~gradfit.MLPRegressor` for
    the fitted attributes."""

    def __sklearn_is_fitted__(self) -> bool:
        # Scalers are set before training starts; only a network means a fit happened.
        return hasattr(self, "net_")

    def _head_width(self, s: Settings) -> int:
        """The network's outputs: ``n_outputs_`` (the regressor's Gaussian head has more)."""
        return int(self.n_outputs_)

    def _sizes(self, s: Settings) -> list[int]:
        """``[n_in, *hidden, n_out]``: from ``n_features_in_`` to the head."""
        return [self.n_features_in_, *s.hidden, self._head_width(s)]

    def _new_network(self, s: Settings) -> MLP:
        """One network, or ``n_members`` stacked, of :meth:`_sizes`."""
        sizes = self._sizes(s)
        if s.n_members is not None and s.n_members > 1:
            return Ensemble(sizes, s.activation, s.n_members, rng=self._rng, dtype=s.dtype)
        return MLP(sizes, s.activation, rng=self._rng, dtype=s.dtype)

    def _members_held_out(self, trainer: EstimatorTrainer) -> Array | None:
        """Each member's outputs on its own held-out rows, ``(K, n_held, n_out)`` in
        float64, when the members held out rows of their own (``validation_rows_`` is
        ``(K, n_held)``); else ``None``."""
        held = trainer.validation
        if held is None or not isinstance(held[0], np.ndarray) or held[0].ndim != 3:
            return None
        return self.net_.copy().forward(held[0]).astype(np.float64, copy=False)

    def _inputs(self, X: Array, dtype: Any = None) -> Array:
        """Validated ``X`` as the network takes it: clipped to the training range (when
        ``clip_inputs``) and standardised (when ``standardize``), in ``dtype`` (by default
        the network's)."""
        dtype = self.net_.dtype if dtype is None else np.dtype(dtype)
        if self.clip_inputs:
            X = np.clip(X, self.x_min_, self.x_max_).astype(dtype, copy=False)
        if self.x_scaler_ is not None:
            X = self.x_scaler_.transform(X).astype(dtype)
        return X

    def _outputs(self, X: Array, dtype: Any = None) -> Array:
        """The network's outputs ``(n_samples, n_outputs)`` for validated ``X`` (an
        ensemble's ``(K, n_samples, n_outputs)``), computed in ``dtype`` (by default the
        network's)."""
        return self._forward(self._inputs(X, dtype), dtype)

    def _forward(self, X: Array, dtype: Any = None) -> Array:
        """The network's outputs for inputs ``X`` as it takes them, computed in ``dtype``."""
        net = self.net_
        dtype = net.dtype if dtype is None else np.dtype(dtype)
        # A copy, so that predicting keeps no reference to X in the fitted network.
        params = [p.astype(dtype) for p in net.parameters()]
        return type(net).from_parameters(net.sizes, net.activation, params).forward(X)

    # The model file.

    def _export_targets(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """What the model file keeps about the targets: ``(meta, arrays)``."""
        raise NotImplementedError

    def _import_targets(self, meta: dict[str, Any], arrays: dict[str, Array]) -> None:
        """Restore what :meth:`_export_targets` wrote."""
        raise NotImplementedError

    def _export_state(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """Everything ``predict`` needs, as ``(JSON-serialisable meta, named arrays)``.

        See :func:`gradfit.estimator._state.export_state` for the layout; no pickle.
        """
        return _state.export_state(self)

    @classmethod
    def _import_state(cls, meta: dict[str, Any], arrays: dict[str, Array]) -> Any:
        """A fitted estimator rebuilt from :meth:`_export_state`'s output."""
        return _state.import_state(cls, meta, arrays)
