"""What one kind of estimator offers in place of the other kind's methods and keywords.

A user who moves from a regressor to a classifier (or back) calls what the other one
had: ``predict(X, return_std=True)`` or ``predict_interval`` on a classifier,
``predict_proba`` or ``partial_fit(…, classes=…)`` on a regressor. Python's own error
(``unexpected keyword argument``, ``object has no attribute``) says what is missing, not
why or what to call instead; nor does it for scikit-learn's ``sample_weight``, which
neither takes. :func:`not_offered` says both, as a
:class:`~gradfit.errors.NotOfferedError`. Each estimator looks up what it lacks here:
its ``__getattr__`` for methods and attributes, and the ``**regressor_only`` or
``**classifier_only`` keywords of the methods whose keywords differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from gradfit.errors import NotOfferedError

_SPREAD = (
    "a classifier's uncertainty is its probabilities: predict_proba(X) gives "
    "P(class) for each class in classes_"
)
_PROBABILITIES = (
    "a regressor predicts numbers, not classes: predict(X); for how far off each may be, "
    "predict(X, return_std=True) or predict_interval(X) on a model fitted with "
    "n_members >= 2 or loss='gaussian_nll'. For labels, use MLPClassifier"
)

REGRESSOR_ONLY: Mapping[str, str] = {
    "return_std": _SPREAD,
    "predict_interval": _SPREAD,
    "loss": "a classifier always trains on cross-entropy (weighted by class_weight)",
    "oob_prediction_": "its out-of-bag probabilities are oob_decision_function_",
    "variance_calibration_": _SPREAD,
    "variance_slopes_": _SPREAD,
    "y_scaler_": "a classifier's targets are labels, which are not scaled",
}
"""The regressor's names a classifier lacks, with what it offers instead."""

CLASSIFIER_ONLY: Mapping[str, str] = {
    "predict_proba": _PROBABILITIES,
    "predict_log_proba": _PROBABILITIES,
    "decision_function": _PROBABILITIES,
    "classes": "a regressor has no classes to declare; call partial_fit(X, y)",
    "classes_": "a regressor has no classes; its outputs are n_outputs_ numbers",
    "class_weight": "a regressor weighs every row alike; for labels, use MLPClassifier",
    "oob_decision_function_": "its out-of-bag predictions are oob_prediction_",
    "accuracy_curve_": "a regressor's training curve is loss_curve_",
    "validation_accuracy_curve_": "a regressor's validation curve is validation_loss_curve_",
}
"""The classifier's names a regressor lacks, with what it offers instead."""

NEITHER: Mapping[str, str] = {
    "sample_weight": "gradfit weighs every row alike (scikit-learn's MLP takes sample_weight); "
    "repeat a row to weigh it more, or weigh a classifier's classes with class_weight",
}
"""scikit-learn's keywords neither estimator takes, with what to do instead."""


class OffersInstead:
    """Gives an estimator's missing attributes the error :func:`not_offered` makes.

    ``_other_kind``: whose names it lacks (``"a regressor's"``) and what it offers in
    place of each (:data:`REGRESSOR_ONLY` or :data:`CLASSIFIER_ONLY`).
    """

    _other_kind: ClassVar[tuple[str, Mapping[str, str]]]

    if not TYPE_CHECKING:  # for mypy, a __getattr__ would make every attribute exist

        def __getattr__(self, name: str) -> Any:
            raise not_offered(self, name)


def not_offered(estimator: OffersInstead, name: str, method: str | None = None) -> Exception:
    """The error for ``estimator``'s lacking ``name``: a :class:`NotOfferedError` that
    says what it offers instead when ``name`` is the other kind's, else Python's own
    ``AttributeError`` (or ``TypeError`` for a keyword). ``method``: the method
    ``name`` was passed to as a keyword."""
    cls = type(estimator).__name__
    owner, instead = type(estimator)._other_kind
    if method is not None and name in NEITHER:
        return NotOfferedError(f"{cls}.{method}() takes no {name}: {NEITHER[name]}")
    if name not in instead:
        if method is not None:
            return TypeError(f"{cls}.{method}() got an unexpected keyword argument {name!r}")
        return AttributeError(f"{cls!r} object has no attribute {name!r}")
    what = f"{cls}.{method}() takes no {name}" if method is not None else f"{cls} has no {name}"
    return NotOfferedError(f"{what}: it is {owner}; {instead[name]}")


def refuse_keywords(estimator: OffersInstead, method: str, keywords: dict[str, Any]) -> None:
    """Raise :func:`not_offered`'s error for the first of ``keywords``, if any."""
    for name in keywords:
        raise not_offered(estimator, name, method)
