"""``MLPRegressor``'s parameters and public methods; its targets are in ``_regression``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import RegressorMixin

from gradfit.defaults import DEFAULTS
from gradfit.engine.training import Callback
from gradfit.engine.types import Array
from gradfit.estimator._offers import CLASSIFIER_ONLY, refuse_keywords
from gradfit.estimator._regression import RegressionBase


class MLPRegressor(RegressorMixin, RegressionBase):  # type: ignore[misc]
    """A multilayer perceptron for regression, trained by gradfit's NumPy or torch backend.

    scikit-learn's parameter names and behaviour where they exist; what differs is
    said below. The defaults are chosen to generalise on small tabular data (they are
    defined, with the reasons, in :mod:`gradfit.defaults`): from 150 rows on, 20% of
    the rows are held out, training stops when their loss has not improved for 50
    epochs, and the best epoch's parameters are restored; below that, every row trains
    and the training loss decides when to stop.

    The data is **standardised inside the estimator**: every column of ``X`` and of
    ``y`` is shifted and scaled to mean 0 and standard deviation 1 (population sd;
    constant columns are only centred) with statistics from the first
    ``fit``/``partial_fit``; the network trains on those, and ``predict`` maps its
    outputs back to ``y``'s units. So a user need not scale anything.
    ``loss_curve_`` is then in standardised units.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units of each hidden layer.
    activation : {"relu", "tanh", "sigmoid", "identity"}, default="relu"
        Between layers; the output layer is linear.
    solver : {"adam", "sgd"}, default="adam"
        ``torch.optim.Adam`` / ``torch.optim.SGD``, or the engine's exact copies.
    alpha : float, default=1e-4
        L2 penalty, applied as ``weight_decay`` to every parameter, biases included
        (scikit-learn spares the biases): the objective is ``MSE + (alpha/B)·‖θ‖²``
        for batches of ``B`` rows, twice scikit-learn's ``½MSE + alpha/(2B)·‖W‖²``.
        With ``loss="sse"`` the penalty is scaled to have the same minimiser.
    batch_size : int, "auto" or None, default="auto"
        Rows per update; ``"auto"`` is ``min(200, n_samples)``, ``None`` the full batch.
    learning_rate_init : float, default=0.003
        The (constant) step size ``lr``. Higher than scikit-learn's 0.001, which on
        small standardised data (the walk-through's sine) needs about 1000 epochs.
    max_iter : int, default=1000
        Most epochs per ``fit`` (scikit-learn: 200); with early stopping, a ceiling.
    shuffle : bool, default=True
        Reshuffle the rows every epoch (minibatches only).
    random_state : int, numpy Generator or None, default=None
        Seeds the one ``numpy.random.Generator`` made in ``fit`` that draws the
        initial weights, the validation split and the shuffling — the same on both
        backends, so they see the same batches.
    tol, n_iter_no_change : float, int, default=1e-4, 50
        Stop when the watched loss (validation loss when stopping early, else the
        training loss) has not fallen by ``tol`` for more than ``n_iter_no_change``
        epochs in a row. scikit-learn waits 10 epochs, which on small data often
        stops in the plateau a network crosses early on, or on a noisy validation loss.
    verbose : int, default=0
        Print the engine's log line (``Epoch:   10  Loss: …``) every ``verbose`` epochs.
    warm_start : bool, default=False
        ``fit`` continues from the last fit's parameters, optimizer state and scalers.
    momentum, nesterovs_momentum : float, bool, default=0.9, True
        SGD's momentum, as ``torch.optim.SGD`` computes it.
    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` (0.2 when unset), stop on its loss, and end
        with the parameters of the epoch with the lowest validation loss. ``"auto"``
        does so when the held-out part has at least 30 rows (150 rows in all at 0.2),
        and otherwise trains on every row and stops on the training loss.
    validation_fraction : float or None, default=None
        Fraction of rows held out (at random) to compute ``validation_loss_curve_``
        each epoch; unlike scikit-learn, it works without early stopping.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's ``betas`` and ``eps``.
    backend : {"numpy", "torch"}, default="numpy"
        The engine's hand-written backprop, or PyTorch autograd.
    loss : {"mse", "sse", "gaussian_nll"}, default="mse"
        Mean or sum of squared errors (a mean-only head), or the Gaussian negative
        log-likelihood of a mean-and-variance head: each target gets a second output,
        its variance through softplus (Lakshminarayanan et al. 2017), so that the model
        predicts how far off it may be, point by point.
    n_members : int or "auto", default="auto"
        Networks in a deep ensemble, each from its own random start (drawn one after
        another from ``random_state``), trained together in one batched computation.
        With a validation split, each member holds out a fold of its own, as k-fold
        cross-validation draws them (:func:`~gradfit.estimator._data.member_splits`),
        and trains on the other rows (k-fold bagging), so that every row trains most
        members; without one, every member trains on every row. ``predict`` returns the
        mean of the members' mixture, and ``predict(X, return_std=True)`` and
        :meth:`predict_interval` its spread. ``"auto"`` trains 5 members when the fit
        holds out validation rows from data in memory (by default from 150 rows on) and
        the table is not large, one network otherwise: :func:`gradfit.defaults.members`
        says when, and :mod:`gradfit.defaults` why.
    dtype : {"float64", "float32"}, default="float64"
        Of the parameters and the data while training.
    device : str or None, default=None
        torch device for ``backend="torch"`` (``"cuda"``); predictions are computed
        by the engine on the CPU.
    precision : {"full", "bf16-mixed"}, default="full"
        ``"bf16-mixed"`` (``backend="torch"``, ``dtype="float32"``): matrix products in
        bfloat16 under ``torch.autocast``, parameters, optimizer and loss in float32.
        Predictions use the float32 parameters.
    standardize : bool, default=True
        Standardise ``X`` and ``y`` inside the estimator, as described above.
    clip_inputs : bool, default=True
        ``predict`` first clips each column of ``X`` to the range seen in training
        (``x_min_``, ``x_max_``): beyond it a ReLU network only continues its last
        linear piece, which the data did not support (one outlying row of a test set
        can then dominate its error); clipped, it holds its prediction at the edge, as
        tree ensembles do.
    record_parameters : bool, default=False
        Keep every epoch's parameters in ``history_.parameters``.
    distributed : bool, default=False
        Data-parallel training (``backend="torch"``) over the processes ``torchrun``
        started: every process runs the same ``fit`` and trains on its share of each
        batch (see :mod:`gradfit.torch_backend.distributed`); the fitted model is the
        same on every process, and the same as one process's up to rounding. Without
        ``torchrun`` it is a group of one.

    Attributes
    ----------
    net_ : gradfit.engine.MLP or gradfit.engine.Ensemble
        The trained network, or the stacked members when ``n_members > 1`` (on
        standardised data when ``standardize``). A Gaussian head has ``2·n_outputs``
        outputs: the means, then the variances' raw values.
    history_ : gradfit.engine.History
        Losses per epoch, validation losses, and the trajectory when recorded.
    loss_curve_, validation_loss_curve_ : list of float
        Training loss per epoch (the loss at the parameters before the epoch's update
        with full batches) and validation loss after each epoch (empty without one).
    best_loss_ : float
        Lowest validation loss when there is validation data, else lowest training loss.
    early_stopping_ : bool
        Whether the last ``fit`` stopped on a held-out split (``early_stopping``
        resolved for the data's size).
    best_epoch_ : int or None
        The epoch whose parameters the estimator holds after early stopping restored
        them (counted over all fits since the last reset); ``None`` without.
    stop_reason_ : str
        Why the last fit ended: ``"early_stopping"`` (the validation loss stopped
        improving), ``"no_improvement"`` (the training loss did), ``"max_iter"``, or
        ``"interrupted"``. A model loaded from a file keeps these three (``None`` when
        the file was written before they were kept).
    validation_rows_ : array of int or None
        Indices of the rows of the last ``fit``'s ``X`` held out for validation; for an
        ensemble of ``K`` members, each holding out a fold of its own (see ``n_members``),
        ``(K, n_held)``: member ``k`` held out ``validation_rows_[k]``. Early stopping
        watches the members' mean loss on their own held-out rows.
    oob_prediction_ : array (n_samples,) or (n_samples, n_outputs), or None
        For an ensemble whose members each held out rows: each row's mean prediction
        over the members that held it out (the out-of-bag estimate of scikit-learn's
        ``BaggingRegressor``; NaN where no member did); else ``None``.
    variance_calibration_ : array of shape (2, n_outputs) or None
        For a model with spread (``n_members > 1`` or ``loss="gaussian_nll"``) whose
        last ``fit`` held out a validation split: ``(a, c)`` per output, and the
        predictive variance is ``(a σ² + c) exp(z·w)`` (in standardised units; ``z`` the
        standardised inputs, ``w`` in :attr:`variance_slopes_`), the most likely on that
        split, found as :mod:`gradfit.estimator._spread` says. The defaults' 90% intervals
        so covered 88–93% of held-out rows on the real-data suite (mean-only members'
        spread alone misses the noise). ``None`` when nothing was held out: the spread
        is then as the networks give it.
    variance_slopes_ : array of shape (n_features, n_outputs) or None
        The slopes ``w`` of the log-variance along each standardised input (a Gaussian
        prior of sd 0.1 holds each near 0); ``None`` without a calibration or when
        ``standardize=False`` (the noise is then the same everywhere).
    n_iter_ : int
        Epochs run, over all ``fit``/``partial_fit`` calls since the last reset.
    coefs_, intercepts_ : lists of arrays
        scikit-learn's layout: ``coefs_[i]`` is ``(n_in, n_out)`` (the engine's ``W.T``),
        with a leading member axis ``K`` for an ensemble.
    n_features_in_, feature_names_in_, n_outputs_ : as in scikit-learn
    x_scaler_, y_scaler_ : gradfit.datasets.Standardizer or None
    x_min_, x_max_ : array of shape (n_features,)
        Each column's range over every row ``fit``/``partial_fit`` saw since the last
        reset; ``predict`` clips to it when ``clip_inputs``.
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = DEFAULTS.hidden_layer_sizes,
        activation: str = DEFAULTS.activation,
        *,
        solver: str = DEFAULTS.solver,
        alpha: float = DEFAULTS.alpha,
        batch_size: int | str | None = DEFAULTS.batch_size,
        learning_rate_init: float = DEFAULTS.learning_rate_init,
        max_iter: int = DEFAULTS.max_iter,
        shuffle: bool = True,
        random_state: int | np.random.Generator | None = None,
        tol: float = DEFAULTS.tol,
        verbose: int = 0,
        warm_start: bool = False,
        momentum: float = DEFAULTS.momentum,
        nesterovs_momentum: bool = True,
        early_stopping: bool | str = DEFAULTS.early_stopping,
        validation_fraction: float | None = DEFAULTS.validation_fraction,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = DEFAULTS.n_iter_no_change,
        backend: str = DEFAULTS.backend,
        loss: str = DEFAULTS.loss,
        dtype: str = DEFAULTS.dtype,
        device: str | None = None,
        precision: str = DEFAULTS.precision,
        standardize: bool = True,
        clip_inputs: bool = DEFAULTS.clip_inputs,
        record_parameters: bool = False,
        n_members: int | str = DEFAULTS.n_members,
        distributed: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.backend = backend
        self.loss = loss
        self.dtype = dtype
        self.device = device
        self.precision = precision
        self.standardize = standardize
        self.clip_inputs = clip_inputs
        self.record_parameters = record_parameters
        self.n_members = n_members
        self.distributed = distributed

    _other_kind = ("a classifier's", CLASSIFIER_ONLY)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def partial_fit(
        self, X: Any, y: Any, *, callbacks: Sequence[Callback] = (), **classifier_only: Any
    ) -> MLPRegressor:
        """Train one epoch on ``(X, y)``; ``k`` calls on the same data equal ``fit`` with
        ``max_iter=k``. Neither validation nor early stopping applies here. The
        classifier's ``classes`` is refused (:class:`~gradfit.errors.NotOfferedError`)."""
        refuse_keywords(self, "partial_fit", classifier_only)
        return self._fit(X, y, hasattr(self, "net_"), partial=True, callbacks=callbacks)

    def predict(self, X: Any, return_std: bool = False) -> Array | tuple[Array, Array]:
        """Predictions ``(n_samples,)``, or ``(n_samples, n_outputs)`` when ``y`` was 2-D.

        With ``return_std=True``, also the predictive standard deviation of each, in
        ``y``'s units, as scikit-learn's ``GaussianProcessRegressor`` returns it: the
        spread of the members' mixture (their variances' mean plus their means'
        variance). The network computes in its ``dtype``; the results are float64.

        Raises
        ------
        ValueError
            For ``return_std`` on a model with no spread: one network (``n_members=1``)
            with a mean-only head (``loss`` other than ``"gaussian_nll"``).
        """
        mean, var = self._predictive(X, need_spread=bool(return_std))
        if not return_std:
            return self._shaped(mean)
        assert var is not None
        return self._shaped(mean), self._shaped(np.sqrt(var))

    def predict_interval(self, X: Any, coverage: float = 0.9) -> tuple[Array, Array]:
        """``(lower, upper)``: the central ``coverage`` interval of each prediction.

        The predictive distribution is read as a Gaussian with the mixture's mean
        ``μ`` and standard deviation ``σ`` (as Lakshminarayanan et al. do), so the
        interval is ``μ ± z σ`` with ``z = Φ⁻¹((1 + coverage) / 2)``: 1.645 for 0.9.
        Each bound has :meth:`predict`'s shape.

        Raises
        ------
        ValueError
            When ``coverage`` is not strictly between 0 and 1, or the model has no
            spread (see :meth:`predict`).
        """
        from gradfit.uncertainty import check_coverage, interval

        level = check_coverage(coverage)
        mean, std = self.predict(X, return_std=True)
        return interval(mean, std, level)
