"""gradfit: fit functions with neural networks, from scratch in NumPy and with PyTorch.

``import gradfit`` needs NumPy only; PyTorch and matplotlib are imported when used.
"""

from typing import Any

from gradfit import datasets, engine, plotting
from gradfit.errors import (
    DataError,
    DivergenceError,
    GradfitError,
    MissingDependencyError,
    ModelFileError,
)
from gradfit.estimator import MLPRegressor
from gradfit.gradcheck import GradientReport, check_gradients
from gradfit.io.model import load, save
from gradfit.walkthrough import (
    Trajectory,
    add_intercept,
    gradient_step,
    layer,
    linear_gradient,
    squared_loss,
    training_loop,
)

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "DivergenceError",
    "GradfitError",
    "GradientReport",
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
    # gradfit.torch_backend imports PyTorch, so it is loaded on first use only.
    if name == "torch_backend":
        import importlib

        return importlib.import_module("gradfit.torch_backend")
    raise AttributeError(f"module 'gradfit' has no attribute {name!r}")
