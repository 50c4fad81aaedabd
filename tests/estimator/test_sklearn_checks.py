"""scikit-learn's own conformance suite, run on the estimator with both backends."""

from __future__ import annotations

import importlib.util

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from gradfit.estimator import MLPRegressor

# The instances stop at max_iter on purpose, so each check's fits warn that they did.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Small networks and few epochs keep the suite fast; check_regressors_train still
# needs R² > 0.5, which standardised data reaches in a few dozen epochs.
ESTIMATORS = [
    MLPRegressor(hidden_layer_sizes=(16,), max_iter=50),
    MLPRegressor(hidden_layer_sizes=(8, 8), solver="sgd", batch_size=16, max_iter=30),
    MLPRegressor(hidden_layer_sizes=(16,), early_stopping=True, max_iter=50, dtype="float32"),
    MLPRegressor(hidden_layer_sizes=(16,), n_members=3, loss="gaussian_nll", max_iter=50),
]
if importlib.util.find_spec("torch") is not None:
    fast = {"learning_rate_init": 0.01, "max_iter": 20}
    ESTIMATORS.append(MLPRegressor(hidden_layer_sizes=(16,), backend="torch", **fast))

# Checks known to fail, each with its reason; run as strict xfail, so a fix shows up.
EXPECTED_FAILURES: dict[str, str] = {}


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
