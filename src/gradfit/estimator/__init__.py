"""gradfit's scikit-learn estimators, :class:`MLPRegressor` and :class:`MLPClassifier`,
trained by either backend."""

from gradfit.estimator._classifier import MLPClassifier
from gradfit.estimator._early_stopping import EarlyStopping
from gradfit.estimator._fitting import EstimatorTrainer
from gradfit.estimator._regressor import MLPRegressor

__all__ = ["EarlyStopping", "EstimatorTrainer", "MLPClassifier", "MLPRegressor"]
