"""Class labels as the network's targets, and back: scikit-learn's conventions.

Three kinds of target, as scikit-learn's ``type_of_target`` names them:

- ``"binary"``: two classes; one output, a sigmoid, binary cross-entropy;
- ``"multiclass"``: three or more; one output per class, softmax cross-entropy;
- ``"multilabel-indicator"``: a 0/1 matrix, one column per label; one sigmoid output
  per label, binary cross-entropy.

Labels may be strings, integers or booleans; :class:`Labels` maps them to the columns
of ``Y`` with scikit-learn's ``LabelBinarizer`` (``classes_`` sorted).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.special import logsumexp
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import type_of_target

from gradfit.engine.losses import BinaryCrossEntropy, CrossEntropy, Loss, log_softmax, softplus
from gradfit.engine.types import Array
from gradfit.errors import DataError

KINDS = ("binary", "multiclass", "multilabel-indicator")


def target_kind(y: Any) -> str:
    """``"binary"``, ``"multiclass"`` or ``"multilabel-indicator"``; :class:`DataError`
    for anything else (continuous numbers, several columns of several classes, labels
    of mixed types)."""
    _check_one_label_type(y)
    kind = type_of_target(y, input_name="y")
    if kind in ("continuous", "continuous-multioutput"):
        raise DataError(
            f"Unknown label type: {kind}: y holds non-integer numbers, not class labels; "
            "fit MLPRegressor (or --task regression) to predict a number"
        )
    if kind == "multiclass-multioutput":
        raise DataError(
            "y has several columns of several classes each (multiclass-multioutput), "
            "which MLPClassifier does not fit; fit one classifier per column"
        )
    if kind == "unknown":
        raise DataError("Unknown label type: y is neither labels nor a 0/1 label matrix")
    return kind


def _label_type(label: Any) -> str:
    if isinstance(label, str):
        return "text"
    if isinstance(label, bool | np.bool_):
        return "bool"
    if isinstance(label, numbers.Number):
        return "missing" if label != label else "number"
    return "missing" if label is None else type(label).__name__


def _check_one_label_type(y: Any) -> None:
    """:class:`DataError` unless the labels of an object array ``y`` are all text, all
    numbers or all booleans: mixed, they cannot be sorted into ``classes_``."""
    y = np.asarray(y)
    if y.dtype != object or y.size == 0:
        return
    first: dict[str, Any] = {}
    for label in y.ravel():
        first.setdefault(_label_type(label), label)
    if len(first) > 1:
        raise DataError(
            "y mixes labels of several types ("
            + ", ".join(f"{kind}: {label!r}" for kind, label in first.items())
            + "); give every label as text or every label as a number, and drop the rows "
            "whose label is missing (None or NaN)"
        )


class Labels:
    """The label set of a fitted classifier and its encoding.

    Parameters
    ----------
    classes : array of labels, (n_classes,)
        Every class (the columns of a multilabel ``y``: ``0 … n_labels - 1``).
    multilabel : bool
        Whether ``y`` is a 0/1 matrix of labels rather than one label per row.
    """

    def __init__(self, classes: Array, *, multilabel: bool) -> None:
        classes = np.asarray(classes)
        if classes.ndim != 1 or len(np.unique(classes)) != len(classes):
            raise DataError(f"classes must be distinct labels, got {classes!r}")
        if len(classes) < 2:
            raise DataError(
                f"y has only one class ({', '.join(map(repr, classes.tolist()))}); a "
                "classifier needs at least two, with examples of each"
            )
        self.multilabel = multilabel
        self._binarizer = LabelBinarizer()
        self._binarizer.fit(np.eye(len(classes), dtype=int) if multilabel else classes)
        self.classes = classes if multilabel else self._binarizer.classes_

    @property
    def n_outputs(self) -> int:
        """Columns of ``Y``: 1 for two classes, else one per class or label."""
        return 1 if len(self.classes) == 2 and not self.multilabel else len(self.classes)

    @property
    def softmax(self) -> bool:
        """Whether the outputs are a softmax over classes (multiclass)."""
        return self.n_outputs > 1 and not self.multilabel

    def encode(self, y: Any, dtype: Any) -> Array:
        """``y`` as targets ``Y: (n_samples, n_outputs)`` of ``dtype``: one-hot rows, a 0/1
        column, or the label matrix; :class:`DataError` naming a label not in the set."""
        if not self.multilabel:
            unseen = np.setdiff1d(np.unique(y), self.classes)
            if unseen.size:
                raise DataError(
                    f"y holds label(s) {', '.join(map(repr, unseen.tolist()))} not among the "
                    f"classes {self.classes.tolist()}, which a partial_fit or warm_start fit "
                    "keeps; name every class in the first partial_fit (classes=…), or fit "
                    "with warm_start=False to learn a new label set"
                )
        elif np.shape(y)[1] != len(self.classes):
            raise DataError(
                f"y has {np.shape(y)[1]} label columns but the classifier was fitted with "
                f"{len(self.classes)}"
            )
        return np.ascontiguousarray(self._binarizer.transform(y), dtype=dtype)

    def loss(self, class_weight: Any, y: Any) -> Loss:
        """The loss on the network's logits, weighted by scikit-learn's ``class_weight``
        (``None``, ``"balanced"`` or ``{label: weight}``) computed from ``y``."""
        weight = None if class_weight is None else self.class_weights(class_weight, y)
        return CrossEntropy(weight) if self.softmax else BinaryCrossEntropy(weight)

    def class_weights(self, class_weight: Any, y: Any) -> list[float]:
        """One weight per class of :attr:`classes` from ``"balanced"`` (over the classes
        ``y`` holds) or ``{label: weight}`` (a class left out weighs 1); ``ValueError``
        for anything else, a label that is not a class, or a weight that is not a finite
        number ``>= 0``, or every weight 0."""
        if self.multilabel:
            raise ValueError("class_weight is not supported for multilabel targets; leave it None")
        if isinstance(class_weight, str) and class_weight == "balanced":
            from sklearn.utils.class_weight import compute_class_weight

            present = np.unique(y)
            balanced = compute_class_weight("balanced", classes=present, y=np.asarray(y))
            given = dict(zip(present.tolist(), balanced.tolist(), strict=True))
        elif isinstance(class_weight, Mapping):
            given = dict(class_weight)
        else:
            raise ValueError(
                "class_weight must be None, 'balanced' or a dict {label: weight}; "
                f"got {class_weight!r}"
            )
        classes = self.classes.tolist()
        unknown = [label for label in given if label not in classes]
        if unknown:
            raise ValueError(
                f"class_weight names label(s) {', '.join(map(repr, unknown))} that are not "
                f"among the classes {classes}; weigh those classes only (one left out "
                "weighs 1)"
            )
        for label, w in given.items():
            if isinstance(w, bool) or not isinstance(w, numbers.Real) or not 0 <= float(w) < np.inf:
                raise ValueError(
                    f"class_weight of label {label!r} must be a finite number >= 0; got {w!r}"
                )
        weight = [float(given.get(c, 1.0)) for c in classes]
        if not any(weight):
            raise ValueError(
                "class_weight weighs every class by 0, which leaves nothing to learn; give "
                "at least one of them a positive weight"
            )
        return weight

    def logits(self, Z: Array) -> Array:
        """One network's logits ``Z: (n, n_outputs)`` as they are, or an ensemble's
        ``(K, n, n_outputs)`` as the logits of the members' mean probability ``p̄``.

        Softmax: ``log p̄ = log Σₖ softmax(Zₖ) - log K``, whose softmax is ``p̄``. Sigmoid
        (each column): ``log p̄ - log(1 - p̄)``, the log-odds of ``p̄``, both terms taken
        as log-mean-exps of ``log σ(±z)``, so that no probability rounds to 0 or 1.
        """
        if Z.ndim == 2:
            return Z
        log_K = np.log(Z.shape[0])
        if self.softmax:
            return logsumexp(log_softmax(Z), axis=0) - log_K
        log_p = logsumexp(-softplus(-Z), axis=0) - log_K
        log_q = logsumexp(-softplus(Z), axis=0) - log_K
        out: Array = log_p - log_q
        return out

    def log_proba(self, Z: Array) -> Array:
        """``log P(class | x)`` from logits ``Z: (n, n_outputs)``: ``(n, n_classes)``.

        Softmax over classes; for two classes ``[log(1 - σ(z)), log σ(z)]``; for labels
        ``log σ(z)`` of each (the columns then do not sum to one)."""
        if self.softmax:
            return log_softmax(Z)
        if self.multilabel:
            return -softplus(-Z)
        return np.hstack([-softplus(Z), -softplus(-Z)])

    def decide(self, Z: Array) -> Array:
        """Labels from logits: the largest softmax class, or each sigmoid above 1/2."""
        if self.softmax:
            return self.classes[np.argmax(Z, axis=1)]
        positive = (Z > 0).astype(int)
        return positive if self.multilabel else self.classes[positive[:, 0]]

    def state(self) -> dict[str, Any]:
        """The label set as JSON: ``{"classes": [...], "label_dtype": ..., "multilabel": ...}``."""
        return {
            "classes": self.classes.tolist(),
            "label_dtype": self.classes.dtype.str,
            "multilabel": self.multilabel,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Labels:
        """The inverse of :meth:`state`; ``ValueError`` for a malformed one."""
        dtype = np.dtype(state["label_dtype"])
        if dtype.kind not in "biuUf":
            raise ValueError(f"label dtype {dtype} is not one of bool, int, float or str")
        if not isinstance(state["classes"], list) or not isinstance(state["multilabel"], bool):
            raise ValueError("classes must be a list and multilabel a boolean")
        # The labels must be the saved ones exactly: a cast that truncates text ('cat' as
        # <U1 is 'c'), rounds a number or turns None into 'None' would rename the classes.
        try:
            classes = np.asarray(state["classes"], dtype=dtype)
        except (OverflowError, TypeError, ValueError):
            classes = None
        if classes is None or classes.tolist() != state["classes"]:
            raise ValueError(f"classes {state['classes']!r} are not labels of dtype {dtype}")
        if np.any(classes[1:] <= classes[:-1]):
            raise ValueError(f"classes {state['classes']!r} are not sorted and distinct")
        return cls(classes, multilabel=state["multilabel"])


def n_right(Z: Array, Y: Array, labels: Labels) -> int:
    """The number of rows whose every output is decided right (logits ``Z`` vs targets ``Y``)."""
    if labels.softmax:
        return int(np.count_nonzero(np.argmax(Z, axis=1) == np.argmax(Y, axis=1)))
    return int(np.count_nonzero(((Z > 0) == (Y > 0.5)).all(axis=1)))


def as_labels(Y: Array) -> Array:
    """Targets read from a file as numbers, ``Y: (n, n_targets)``, as labels: one column
    as ``(n,)``, several as they are (a 0/1 label matrix), and whole numbers as int64
    (as ``gradfit fit`` reads a CSV's); other numbers stay floats, which
    :func:`target_kind` refuses as continuous."""
    y = Y[:, 0] if Y.shape[1] == 1 else Y
    whole = np.array_equal(y, np.round(y)) and (y.size == 0 or np.abs(y).max() < 2**53)
    return y.astype(np.int64) if whole else y
