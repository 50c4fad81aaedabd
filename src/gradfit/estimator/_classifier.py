"""``MLPClassifier``'s parameters and public methods; its labels are in ``_classification``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin

from gradfit.defaults import CLASSIFIER_DEFAULTS
from gradfit.engine.training import Callback
from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.estimator._classification import ClassificationBase
from gradfit.estimator._labels import target_kind
from gradfit.estimator._offers import REGRESSOR_ONLY, refuse_keywords


class MLPClassifier(ClassifierMixin, ClassificationBase):  # type: ignore[misc]
    """A multilayer perceptron for classification, trained by gradfit's NumPy or torch backend.

    The network's outputs are logits: for two classes one, with a sigmoid and binary
    cross-entropy; for more, one per class, with a softmax and cross-entropy; for
    multilabel ``y`` (a 0/1 matrix) one per label, each a sigmoid with binary
    cross-entropy. Labels may be strings, integers or booleans.

    The parameters are :class:`~gradfit.MLPRegressor`'s (without ``loss``), with the
    same meaning and the same defaults but for five (:data:`gradfit.defaults.
    CLASSIFIER_DEFAULTS`, which says why): ``learning_rate_init=0.001`` and
    ``n_iter_no_change=10``, scikit-learn's, and the three below; a validation split is
    stratified; ``standardize`` scales ``X`` only. What differs:

    Parameters
    ----------
    early_stopping : bool or "auto", default=False
        As the regressor's, but off by default: holding out a fifth of the rows
        ("auto") cost accuracy on breast_cancer and digits in the benchmark below,
        where the training loss with patience ``n_iter_no_change`` stopped well.
    clip_inputs : bool, default=False
        As the regressor's, but off by default: a classifier's probabilities stay
        bounded beyond the training range, and clipping each column alone distorts a
        row's shape (on R's crabs it turned one small crab into another species).
    class_weight : None, "balanced" or dict, default=None
        Weights of each class's term in the loss, as in scikit-learn's linear models
        (``"balanced"``: ``n_samples / (n_classes · count)``); not for multilabel ``y``.
    n_members : int or "auto", default=1
        ``K > 1`` trains a deep ensemble (Lakshminarayanan et al. 2017) of ``K``
        networks from different random starts, stacked and trained as one computation
        as the regressor's are (each holding out a stratified fold of its own when
        stopping early); the prediction is the members' mean probability (its logits
        are what ``decision_function`` returns). One by default: five members on folds
        did not help on the benchmark's sets (:data:`gradfit.defaults.CLASSIFIER_DEFAULTS`);
        ``"auto"`` is the regressor's rule.
    distributed : bool, default=False
        Data-parallel training under ``torchrun``, as the regressor's. ``fit`` also
        takes a :class:`~gradfit.io.arrays.RowSource` whose target column holds the
        labels as numbers (whole numbers become integer labels): the classes are
        found in the one pass over its chunks that gives the column statistics (every
        row's label is gathered from the processes, so each finds the same sorted
        classes and stratifies the validation split alike).

    Attributes
    ----------
    classes_ : array, (n_classes,)
        The labels, sorted (for multilabel ``y``, ``0 … n_labels - 1``).
    accuracy_curve_, validation_accuracy_curve_ : list of float
        Accuracy after each epoch on the training rows and the validation rows (the
        share of rows predicted right; for multilabel ``y``, every label right).
    loss_curve_, validation_loss_curve_, best_loss_, n_iter_, history_, net_, coefs_,
    intercepts_, n_features_in_, feature_names_in_, x_scaler_
        As :class:`~gradfit.MLPRegressor`'s; the losses are cross-entropies.
    n_outputs_ : int
        Outputs of the network: 1 for two classes, else one per class or label.
    oob_decision_function_ : array (n_samples, n_classes) or None
        For an ensemble whose members each held out a validation split of their own:
        each row's mean probabilities over the members that held it out (NaN where
        none did), scikit-learn's ``BaggingClassifier`` name; else ``None``.
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = CLASSIFIER_DEFAULTS.hidden_layer_sizes,
        activation: str = CLASSIFIER_DEFAULTS.activation,
        *,
        solver: str = CLASSIFIER_DEFAULTS.solver,
        alpha: float = CLASSIFIER_DEFAULTS.alpha,
        batch_size: int | str | None = CLASSIFIER_DEFAULTS.batch_size,
        learning_rate_init: float = CLASSIFIER_DEFAULTS.learning_rate_init,
        max_iter: int = CLASSIFIER_DEFAULTS.max_iter,
        shuffle: bool = True,
        random_state: int | np.random.Generator | None = None,
        tol: float = CLASSIFIER_DEFAULTS.tol,
        verbose: int = 0,
        warm_start: bool = False,
        momentum: float = CLASSIFIER_DEFAULTS.momentum,
        nesterovs_momentum: bool = True,
        early_stopping: bool | str = CLASSIFIER_DEFAULTS.early_stopping,
        validation_fraction: float | None = CLASSIFIER_DEFAULTS.validation_fraction,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = CLASSIFIER_DEFAULTS.n_iter_no_change,
        backend: str = CLASSIFIER_DEFAULTS.backend,
        dtype: str = CLASSIFIER_DEFAULTS.dtype,
        device: str | None = None,
        precision: str = CLASSIFIER_DEFAULTS.precision,
        standardize: bool = True,
        clip_inputs: bool = CLASSIFIER_DEFAULTS.clip_inputs,
        record_parameters: bool = False,
        class_weight: str | dict[Any, float] | None = None,
        n_members: int | str = CLASSIFIER_DEFAULTS.n_members,
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
        self.dtype = dtype
        self.device = device
        self.precision = precision
        self.standardize = standardize
        self.clip_inputs = clip_inputs
        self.record_parameters = record_parameters
        self.class_weight = class_weight
        self.n_members = n_members
        self.distributed = distributed

    _other_kind = ("a regressor's", REGRESSOR_ONLY)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def partial_fit(
        self,
        X: Any,
        y: Any,
        classes: Any = None,
        *,
        callbacks: Sequence[Callback] = (),
        **not_taken: Any,
    ) -> MLPClassifier:
        """Train one epoch on ``(X, y)``; ``k`` calls on the same data equal ``fit`` with
        ``max_iter=k``.

        Parameters
        ----------
        classes : array-like, optional
            Every class any call will see; needed on the first call (not for
            multilabel ``y``), ignored after.
        """
        refuse_keywords(self, "partial_fit", not_taken)
        first = not hasattr(self, "net_")
        if first and classes is None and target_kind(y) != "multilabel-indicator":
            raise DataError(
                "the first partial_fit needs classes=…, every class any call will see "
                "(e.g. classes=np.unique(y_all)); later calls may hold only some of them"
            )
        if (
            not first
            and classes is not None
            and not np.array_equal(np.unique(np.asarray(classes)), self.classes_)
        ):
            raise DataError(
                f"classes={list(np.unique(classes))} differs from the first partial_fit's "
                f"{self.classes_.tolist()}; refit to change the label set"
            )
        return self._fit(X, y, not first, partial=True, callbacks=callbacks, classes=classes)

    def predict_proba(self, X: Any) -> Array:
        """Probabilities ``(n_samples, n_classes)``, columns in ``classes_`` order; float64."""
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X: Any) -> Array:
        """``log predict_proba(X)``, computed from the logits (no ``log 0``); float64."""
        Z = self._logits(X)
        return self._labels.log_proba(Z).astype(np.float64, copy=False)

    def predict(self, X: Any, **regressor_only: Any) -> Array:
        """Labels ``(n_samples,)`` from ``classes_``, or a 0/1 matrix for multilabel ``y``.

        Raises
        ------
        NotOfferedError
            For the regressor's ``return_std``: a classifier's spread is its
            probabilities, :meth:`predict_proba`.
        """
        refuse_keywords(self, "predict", regressor_only)
        Z = self._logits(X)
        return self._labels.decide(Z)

    def decision_function(self, X: Any) -> Array:
        """The logits: ``(n_samples,)`` for two classes, else ``(n_samples, n_outputs)``."""
        Z = self._logits(X).astype(np.float64, copy=False)
        return Z[:, 0] if Z.shape[1] == 1 else Z
