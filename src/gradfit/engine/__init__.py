"""The NumPy engine: layers, activations, losses, optimizers and the training loop.

Imports NumPy only.
"""

from gradfit.engine.activations import ACTIVATIONS, Activation, Identity, ReLU, Sigmoid, Tanh
from gradfit.engine.ensemble import Ensemble, EnsembleStepper, mixture
from gradfit.engine.history import History, log_line
from gradfit.engine.layers import Dense, StackedDense
from gradfit.engine.losses import MSE, SSE, GaussianNLL, Loss, get_loss
from gradfit.engine.network import MLP
from gradfit.engine.numpy_stepper import NumpyStepper
from gradfit.engine.optim import SGD, Adam, Optimizer
from gradfit.engine.stepper import Stepper
from gradfit.engine.training import Trainer, train

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "MSE",
    "SGD",
    "SSE",
    "Activation",
    "Adam",
    "Dense",
    "Ensemble",
    "EnsembleStepper",
    "GaussianNLL",
    "History",
    "Identity",
    "Loss",
    "NumpyStepper",
    "Optimizer",
    "ReLU",
    "Sigmoid",
    "StackedDense",
    "Stepper",
    "Tanh",
    "Trainer",
    "get_loss",
    "log_line",
    "mixture",
    "train",
]
