"""What makes a fit a classification: class labels as the network's targets.

:class:`ClassificationBase` gives :class:`~gradfit.estimator._base.MLPBase` the
classifier's targets: the label set (:class:`~gradfit.estimator._labels.Labels`) from
``y``, from ``classes`` or from one pass over a source's labels; the cross-entropy it
names, weighted by ``class_weight``; the strata of a validation split; the accuracy
curves; after a fit, the out-of-bag probabilities; the logits ``predict`` decides from;
and what the model file keeps of them. :class:`~gradfit.MLPClassifier` adds the
parameters and the public methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted, column_or_1d

from gradfit.engine.ensemble import out_of_bag
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.training import Callback
from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.estimator._accuracy import AccuracyCurve
from gradfit.estimator._base import MLPBase
from gradfit.estimator._data import validated
from gradfit.estimator._early_stopping import EarlyStopping
from gradfit.estimator._fitting import EstimatorTrainer
from gradfit.estimator._labels import Labels, as_labels, target_kind
from gradfit.estimator._params import Settings
from gradfit.estimator._source import Labelled, TrainingRows
from gradfit.io.arrays import CHUNK_ROWS, RowSource
from gradfit.io.statistics import ColumnStats, merged, statistics_and_targets
from gradfit.io.streaming import Group


class ClassificationBase(MLPBase):
    """The classifier's labels; see :class:`~gradfit.MLPClassifier`."""

    def _validate(
        self, X: Any, y: Any, s: Settings, *, reset: bool, classes: Any = None, **kwargs: Any
    ) -> tuple[Array, Array]:
        """Checked ``X`` and ``y`` encoded as targets; on ``reset`` the label set."""
        X, y = validated(self, X, y, dtype=s.dtype, reset=reset, numeric_y=False)
        kind = target_kind(y)
        if kind != "multilabel-indicator":
            y = column_or_1d(y, warn=True)
        if reset:
            self._set_labels(y, kind, classes)
        elif (kind == "multilabel-indicator") != self._labels.multilabel:
            raise DataError(
                f"y is {kind} but the classifier was fitted on "
                f"{'multilabel' if self._labels.multilabel else 'one label per row'} targets"
            )
        Y = self._labels.encode(y, s.dtype)
        self._fit_loss = self._labels.loss(self.class_weight, y)
        return X, Y

    def _set_labels(self, y: Array, kind: str, classes: Any = None) -> None:
        """The label set: ``classes`` when given, else the labels found in ``y``."""
        multilabel = kind == "multilabel-indicator"
        if multilabel:
            found = np.arange(np.shape(y)[1])
        else:
            found = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        if classes is not None and not multilabel and len(found) < 2:
            # Labels would say "y has only one class", of a y that may hold several.
            raise DataError(
                f"classes={found.tolist()} names one class; a classifier needs at least two: "
                "name every class any call will see (e.g. classes=np.unique(y_all))"
            )
        self._labels = Labels(found, multilabel=multilabel)
        self.classes_ = self._labels.classes

    def _read(
        self, data: tuple[Array, Array] | RowSource, dtype: Any, group: Group
    ) -> tuple[tuple[Array, Array] | RowSource, tuple[ColumnStats, ColumnStats]]:
        """Arrays as they are; for a source, the label set from one pass over its
        chunks (every row's labels, gathered from the processes of ``group``, so each
        finds the same classes, sorted), and the source with its labels encoded."""
        if isinstance(data, tuple):
            return super()._read(data, dtype, group)
        x, targets = statistics_and_targets(data, dtype, group)
        y = as_labels(targets)
        del targets
        self._set_labels(y, target_kind(y))
        self._fit_loss = self._labels.loss(self.class_weight, y)
        labels = self._labels
        strata = None if labels.multilabel else np.searchsorted(labels.classes, y)
        encoded = (labels.encode(y[a : a + CHUNK_ROWS], np.float64)
                   for a in range(0, len(y), CHUNK_ROWS))  # fmt: skip
        return Labelled(data, labels, strata), (x, merged(map(ColumnStats.of, encoded)))

    def _loss(self, s: Settings) -> Loss:
        return self._fit_loss

    def _strata(self, data: tuple[Array, Array] | RowSource) -> Array | None:
        if isinstance(data, Labelled):
            return data.strata
        if self._labels.multilabel or not isinstance(data, tuple):
            return None
        Y = data[1]
        return np.argmax(Y, axis=1) if self._labels.softmax else Y[:, 0]

    def _epoch_callbacks(
        self, net: MLP, rows: TrainingRows, group: Group, incremental: bool
    ) -> list[Callback]:
        if not incremental:
            self.accuracy_curve_: list[float] = []
            self.validation_accuracy_curve_: list[float] = []
        curve = AccuracyCurve(net.copy(), rows.train, rows.validation, self._labels, group,
                              accuracy=self.accuracy_curve_,
                              val_accuracy=self.validation_accuracy_curve_)  # fmt: skip
        return [curve]

    def _finish(
        self, trainer: EstimatorTrainer, net: MLP, stopping: EarlyStopping | None, *, restore: bool
    ) -> None:
        super()._finish(trainer, net, stopping, restore=restore)
        self.oob_decision_function_: Array | None = None
        own = self._members_held_out(trainer)
        if own is not None:  # members with held-out rows of their own: score out-of-bag
            assert self.validation_rows_ is not None
            P = np.exp(np.stack([self._labels.log_proba(Z) for Z in own]))
            self.oob_decision_function_ = out_of_bag(P, self.validation_rows_, self._n_rows)

    def _logits(self, X: Any) -> Array:
        """The network's outputs in float64, also for a float32 network: a float32 product
        varies in its last bits with the number of rows, and so would the probabilities.
        An ensemble's are the logits of its members' mean probability."""
        check_is_fitted(self)
        Z = self._outputs(validated(self, X, dtype=np.float64, reset=False), np.float64)
        return self._labels.logits(Z)

    def _export_targets(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """The label set, for the model file."""
        curves = {
            "accuracy_curve_": [float(v) for v in self.accuracy_curve_],
            "validation_accuracy_curve_": [float(v) for v in self.validation_accuracy_curve_],
        }
        return {"labels": self._labels.state(), **curves}, {}

    def _import_targets(self, meta: dict[str, Any], arrays: dict[str, Array]) -> None:
        self._labels = Labels.from_state(meta["labels"])
        self.classes_ = self._labels.classes
        self.accuracy_curve_ = [float(v) for v in meta["accuracy_curve_"]]
        self.validation_accuracy_curve_ = [float(v) for v in meta["validation_accuracy_curve_"]]
        if self._labels.n_outputs != self.n_outputs_:
            raise ValueError(f"{len(self.classes_)} classes do not fit {self.n_outputs_} outputs")
