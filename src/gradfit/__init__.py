"""gradfit: fit functions with neural networks, from scratch in NumPy and with PyTorch.

``import gradfit`` needs NumPy only; PyTorch and matplotlib are imported when used.
"""

from gradfit import datasets, engine
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

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "DivergenceError",
    "GradfitError",
    "MissingDependencyError",
    "ModelFileError",
    "Trajectory",
    "__version__",
    "add_intercept",
    "datasets",
    "engine",
    "gradient_step",
    "layer",
    "linear_gradient",
    "squared_loss",
    "training_loop",
]
