"""scikit-learn's conformance suite on MLPClassifier, with both backends."""

from __future__ import annotations

import importlib.util

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from gradfit.estimator import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Short runs, at a learning rate above the default's 0.001 so that they still learn.
ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(16,), max_iter=50, learning_rate_init=0.003),
    MLPClassifier(hidden_layer_sizes=(8, 8), solver="sgd", batch_size=16, max_iter=30),
    MLPClassifier(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        max_iter=50,
        dtype="float32",
        learning_rate_init=0.003,
    ),
]
if importlib.util.find_spec("torch") is not None:
    fast = {"learning_rate_init": 0.01, "max_iter": 20}
    ESTIMATORS.append(MLPClassifier(hidden_layer_sizes=(16,), backend="torch", **fast))

EXPECTED_FAILURES: dict[str, str] = {}


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
