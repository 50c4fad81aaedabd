"""The NumPy engine's :class:`~gradfit.engine.Stepper`."""

from __future__ import annotations

import numpy as np

from gradfit.engine.batches import Rows
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import Optimizer
from gradfit.engine.stepper import EngineStepper
from gradfit.engine.types import Array
from gradfit.engine.workspace import Workspace


class NumpyStepper(EngineStepper):
    """The engine's :class:`Stepper`: an :class:`MLP`, its data, a loss and an optimizer.

    A step is :meth:`MLP.forward`, the loss and :meth:`MLP.parameter_gradients` (the
    layers' own chain rule, without the gradient of the data), then the optimizer's
    update. Every batch-sized array lives in a
    :class:`~gradfit.engine.workspace.Workspace` reused from step to step, and the first
    layer takes the data as ``[X 1]``, its bias folded into one product
    (:meth:`Dense.forward <gradfit.engine.Dense.forward>`).

    Parameters
    ----------
    net : MLP
    X : (n_samples, n_in) array
    Y : (n_samples, n_out) array
        Both are taken in the network's dtype.
    loss : Loss
    optimizer : Optimizer
        Built over ``net.parameters()``.
    """

    def __init__(self, net: MLP, X: Array, Y: Array, loss: Loss, optimizer: Optimizer) -> None:
        self.net, self.loss, self.optimizer = net, loss, optimizer
        self.X, self.Y = np.asarray(X, net.dtype), np.asarray(Y, net.dtype)
        self.n_samples = X.shape[0]
        self._grads = net.gradients()
        self._workspace = Workspace(net.sizes, net.dtype)

    def step(self, rows: Rows) -> float:
        net = self.net
        X1, Z, G = self._workspace.batch(self.X, rows)
        Y = self.Y if rows is None else self.Y[rows]
        value, dY = self.loss.value_and_gradient(net.forward(X1, Z), Y, out=Z[-1])
        net.parameter_gradients(dY, G)
        self.optimizer.step(self._grads)
        return value
