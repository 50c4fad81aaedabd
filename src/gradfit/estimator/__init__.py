"""gradfit's scikit-learn estimator: :class:`MLPRegressor`, trained by either backend."""

from gradfit.estimator._early_stopping import EarlyStopping
from gradfit.estimator._fitting import EstimatorTrainer
from gradfit.estimator._regressor import MLPRegressor

__all__ = ["EarlyStopping", "EstimatorTrainer", "MLPRegressor"]
