"""gradfit: fit functions with neural networks, from scratch in NumPy and with PyTorch.

``import gradfit`` needs NumPy only; PyTorch and matplotlib are imported when used.
"""

import importlib
from typing import TYPE_CHECKING, Any

from gradfit import datasets, engine, plotting
from gradfit.errors import (
    DataError,
    DivergenceError,
    GradfitError,
    MissingDependencyError,
    ModelFileError,
)
from gradfit.walkthrough import (
    Trajectory,
    add_intercept,
    gradient_step,
    layer,
    linear_gradient,
    squared_loss,
    training_loop,
)

if TYPE_CHECKING:
    from gradfit.estimator import MLPClassifier, MLPRegressor
    from gradfit.gradcheck import GradientReport, check_gradients
    from gradfit.model_files import load, save

__version__ = "0.1.0"

# Loaded on first use: the estimator brings scikit-learn (and save/load the estimator),
# torch_backend brings PyTorch; `import gradfit` itself needs NumPy only.
_LAZY = {
    "MLPClassifier": "gradfit.estimator",
    "MLPRegressor": "gradfit.estimator",
    "GradientReport": "gradfit.gradcheck",
    "check_gradients": "gradfit.gradcheck",
    "load": "gradfit.model_files",
    "save": "gradfit.model_files",
}

__all__ = [
    "DataError",
    "DivergenceError",
    "GradfitError",
    "GradientReport",
    "MLPClassifier",
    "MLPRegressor",
    "MissingDependencyError",
    "ModelFileError",
    "Trajectory",
    "__version__",
    "add_intercept",
    "check_gradients",
    "datasets",
    "engine",
    "gradient_step",
    "layer",
    "linear_gradient",
    "load",
    "plotting",
    "save",
    "squared_loss",
    "training_loop",
]


def __getattr__(name: str) -> Any:
    if name == "torch_backend":
        return importlib.import_module("gradfit.torch_backend")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradfit' has no attribute {name!r}")
