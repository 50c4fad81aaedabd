"""What makes a fit a regression: ``y`` as columns of numbers, and a predictive spread.

:class:`RegressionBase` gives :class:`~gradfit.estimator._base.MLPBase` the regressor's
targets: ``y`` checked and made 2-D (remembering whether it was 1-D), its own scaler, a
mean-only or mean-and-variance head (:func:`~gradfit.engine.losses.head_width`); after a
fit, the out-of-bag predictions and the spread's calibration on the held-out rows
(:mod:`gradfit.estimator._spread`); the mixture's mean and variance in ``y``'s units for
``predict``; and what the model file keeps of them. :class:`~gradfit.MLPRegressor` adds
the parameters and the public methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from gradfit.datasets import Standardizer
from gradfit.engine.ensemble import Ensemble
from gradfit.engine.losses import GaussianNLL, Loss, get_loss, head_width
from gradfit.engine.network import MLP
from gradfit.engine.types import Array
from gradfit.engine.validation import as_2d_float
from gradfit.estimator import _spread, _state
from gradfit.estimator._base import MLPBase
from gradfit.estimator._data import standardizer, validated
from gradfit.estimator._early_stopping import EarlyStopping
from gradfit.estimator._fitting import EstimatorTrainer
from gradfit.estimator._params import Settings
from gradfit.io.arrays import RowSource
from gradfit.io.statistics import ColumnStats


class RegressionBase(MLPBase):
    """The regressor's targets and spread; see :class:`~gradfit.MLPRegressor`."""

    def _validate(
        self, X: Any, y: Any, s: Settings, *, reset: bool, **kwargs: Any
    ) -> tuple[Array, Array]:
        """Checked ``X`` and ``y`` of ``s.dtype``; ``y`` becomes 2-D."""
        X, y = validated(self, X, y, dtype=s.dtype, reset=reset)
        if reset:
            self._y_is_1d = y.ndim == 1
        return X, as_2d_float(y, "y", dtype=s.dtype)

    def _loss(self, s: Settings) -> Loss:
        return get_loss(s.loss or "mse")

    def _validate_source(self, source: RowSource, s: Settings) -> None:
        """Take the feature names of ``source``; one target is ``y`` 1-D."""
        super()._validate_source(source, s)
        self._y_is_1d = len(source.target_names) == 1

    def _start(self, x: ColumnStats, y: ColumnStats, s: Settings) -> None:
        super()._start(x, y, s)
        self.y_scaler_ = standardizer(y, "y") if self.standardize else None

    def _head_width(self, s: Settings) -> int:
        return head_width(self._loss(s), self.n_outputs_)

    def _finish(
        self, trainer: EstimatorTrainer, net: MLP, stopping: EarlyStopping | None, *, restore: bool
    ) -> None:
        super()._finish(trainer, net, stopping, restore=restore)
        self.variance_calibration_: Array | None = None
        self.variance_slopes_: Array | None = None
        self.oob_prediction_: Array | None = None
        if trainer.validation is None:
            return
        X, Y = trainer.validation
        gaussian = self.loss == GaussianNLL.name
        own = self._members_held_out(trainer)
        unseen = None
        if own is not None:  # members with held-out rows of their own: score out-of-bag
            held = self.validation_rows_
            assert held is not None
            oob = _spread.out_of_bag_means(own, held, self._n_rows, gaussian=gaussian)
            scaled = oob if self.y_scaler_ is None else self.y_scaler_.inverse_transform(oob)
            self.oob_prediction_ = self._shaped(scaled)
            # The rows held out by any member, each once, and which members held each out.
            rows, first = np.unique(held, return_index=True)
            X, Y = X.reshape(-1, X.shape[-1])[first], Y.reshape(-1, Y.shape[-1])[first]
            unseen = np.stack([np.isin(rows, h) for h in held])
        if not self._has_spread():
            return
        outputs = self._members(self.net_.copy().forward(X))
        # The noise may vary along the inputs where they are standardised, as the slopes'
        # prior assumes.
        Z = X if self.x_scaler_ is not None else None
        if unseen is None:
            found = _spread.calibrate(Y, outputs, Z, gaussian=gaussian)
        else:
            found = _spread.calibrate_folds(Y, outputs, unseen, Z, gaussian=gaussian)
        self.variance_calibration_ = found[:2]
        self.variance_slopes_ = found[2:] if Z is not None else None

    def _has_spread(self) -> bool:
        return isinstance(self.net_, Ensemble) or self.loss == GaussianNLL.name

    def _members(self, out: Array) -> Array:
        """The network's outputs as the members' ``(K, n_samples, width)``, in float64."""
        out = out.astype(np.float64, copy=False)
        return out if isinstance(self.net_, Ensemble) else out[None]

    def _predictive(self, X: Any, *, need_spread: bool) -> tuple[Array, Array | None]:
        """The mixture's mean and variance, ``(n_samples, n_outputs)`` each, in ``y``'s
        units and float64; the variance is ``None`` when not needed."""
        check_is_fitted(self)
        if need_spread and not self._has_spread():
            raise ValueError(
                "this model has no spread to report: it is one network with a mean-only "
                f"head (loss={self.loss!r}); fit it with n_members >= 2 (a deep ensemble) "
                "or loss='gaussian_nll' (a variance per point) to get return_std and "
                "predict_interval"
            )
        Z = self._inputs(validated(self, X, dtype=self.net_.dtype, reset=False))
        outputs = self._members(self._forward(Z))
        mean, var = _spread.moments(outputs, gaussian=self.loss == GaussianNLL.name)
        var = _spread.calibrated(var, self.variance_calibration_, self.variance_slopes_, Z)
        if self.y_scaler_ is not None:
            mean = self.y_scaler_.inverse_transform(mean)
            var = var * np.square(self.y_scaler_.scale)
        # float64 whatever the network's dtype, as scikit-learn's regressors return.
        return mean.astype(np.float64, copy=False), var if need_spread else None

    def _shaped(self, Y: Array) -> Array:
        return Y[:, 0] if self._y_is_1d else Y

    def _export_targets(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """``y_is_1d``, the scaler of ``y`` and the variance's calibration, for the model file."""
        arrays = _state.scaler_arrays("y", self.y_scaler_)
        calibration, slopes = self.variance_calibration_, self.variance_slopes_
        if calibration is not None:
            arrays["variance_calibration"] = np.asarray(calibration, dtype=np.float64)
        if slopes is not None:
            arrays["variance_slopes"] = np.asarray(slopes, dtype=np.float64)
        meta = {
            "y_is_1d": bool(self._y_is_1d),
            "variance_calibrated": calibration is not None,
            "variance_slopes": slopes is not None,
        }
        return meta, arrays

    def _import_targets(self, meta: dict[str, Any], arrays: dict[str, Array]) -> None:
        self._y_is_1d = bool(meta["y_is_1d"])
        self.variance_calibration_ = arrays.get("variance_calibration")
        if self.variance_calibration_ is not None and not (self.variance_calibration_ > 0).all():
            raise ValueError("variance_calibration holds a value that is not positive")
        # Files written before the slopes were kept have none: their noise is constant.
        self.variance_slopes_ = arrays.get("variance_slopes")
        if self.variance_slopes_ is not None and self.variance_calibration_ is None:
            raise ValueError("variance_slopes without a variance_calibration")
        self.y_scaler_ = None
        if meta["standardized"]:
            self.y_scaler_ = Standardizer(arrays["y_center"], arrays["y_scale"])
