"""gradfit's scikit-learn estimators, :class:`MLPRegressor` and :class:`MLPClassifier`,
trained by either backend.

Importing this package registers their model-file kinds, ``"regressor"`` and
``"classifier"``, with :mod:`gradfit.io.kinds`.
"""

from functools import partial

from gradfit.estimator._classifier import MLPClassifier
from gradfit.estimator._early_stopping import EarlyStopping
from gradfit.estimator._fitting import EstimatorTrainer
from gradfit.estimator._regressor import MLPRegressor
from gradfit.estimator._state import OPTIONAL_ARRAYS, expected_arrays
from gradfit.io import kinds

for _name, _cls in (("regressor", MLPRegressor), ("classifier", MLPClassifier)):
    kinds.register(
        kinds.ModelKind(
            _name,
            _cls,
            export=_cls._export_state,
            arrays=partial(expected_arrays, kind=_name),
            build=_cls._import_state,
            optional=OPTIONAL_ARRAYS,
        )
    )
del _name, _cls

__all__ = ["EarlyStopping", "EstimatorTrainer", "MLPClassifier", "MLPRegressor"]
